import { WechatTransportError } from './api-errors';

/** Looking at the calls of the last this-many milliseconds. */
const WINDOW_MS = 10_000;
/** Fewer calls than this in the window never open the circuit (one bad call is not an outage). */
const MIN_CALLS = 5;
/** Share of failed calls in the window that opens the circuit. */
const FAILURE_RATIO = 0.5;
/** First pause after opening; doubles after each failed probe, up to the maximum. */
const FIRST_PAUSE_MS = 1000;
const MAX_PAUSE_MS = 30_000;

export type CircuitState = 'closed' | 'open' | 'probing';

export interface CircuitView {
  state: CircuitState;
  /** When the circuit last opened (null while closed). */
  openSince: number | null;
  /** When the next probe call may go out (null while closed). */
  probeAt: number | null;
  /** Calls refused without trying since the process started. */
  shortCircuited: number;
}

/**
 * Notices whether WeChat as a whole answers. When most calls of the last seconds got no answer
 * (connection refused or dropped, timeout, HTTP 5xx from the gateway), it stops calling: calls are
 * refused at once with a transport error that says nothing was sent, and delivery waits instead of
 * burning retries and falling back during an outage. After a pause one call goes through as a
 * probe; its answer closes the circuit again (WeChat is back) or doubles the pause.
 *
 * An answer with an errcode is an answer: WeChat is up, the request itself was refused.
 */
export class CircuitBreaker {
  /** Per-second counts of the window, oldest first (bounded, whatever the call rate). */
  private seconds: Array<{ second: number; ok: number; failed: number }> = [];
  private state: CircuitState = 'closed';
  private openSince: number | null = null;
  private probeAt = 0;
  private pauseMs = FIRST_PAUSE_MS;
  private shortCircuited = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly onChange: (state: CircuitState) => void = () => undefined,
  ) {}

  /** Throws (nothing sent) when calls are paused; otherwise the call may go out. */
  admit(path: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'open' && this.now() >= this.probeAt) {
      this.setState('probing');
      return;
    }
    this.shortCircuited += 1;
    throw new WechatTransportError(path, 'no', `WeChat unreachable, calls paused (circuit open since ${new Date(this.openSince ?? 0).toISOString()})`);
  }

  /** The call got an answer (any errcode). */
  succeeded(): void {
    if (this.state !== 'closed') {
      this.seconds = [];
      this.openSince = null;
      this.pauseMs = FIRST_PAUSE_MS;
      this.setState('closed');
    }
    this.record(true);
  }

  /** The call got no answer from WeChat (transport error or HTTP 5xx). */
  failed(): void {
    const now = this.now();
    if (this.state === 'probing') {
      this.pauseMs = Math.min(this.pauseMs * 2, MAX_PAUSE_MS);
      this.probeAt = now + this.pauseMs;
      this.setState('open');
      return;
    }
    this.record(false);
    if (this.state !== 'closed') return;
    const failures = this.seconds.reduce((sum, s) => sum + s.failed, 0);
    const calls = failures + this.seconds.reduce((sum, s) => sum + s.ok, 0);
    if (calls >= MIN_CALLS && failures / calls >= FAILURE_RATIO) {
      this.openSince = now;
      this.probeAt = now + this.pauseMs;
      this.setState('open');
    }
  }

  /** True while WeChat is taken to be unreachable. */
  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  view(): CircuitView {
    const closed = this.state === 'closed';
    return { state: this.state, openSince: this.openSince, probeAt: closed ? null : this.probeAt, shortCircuited: this.shortCircuited };
  }

  private record(ok: boolean): void {
    const second = Math.floor(this.now() / 1000);
    let last = this.seconds.at(-1);
    if (!last || last.second !== second) {
      last = { second, ok: 0, failed: 0 };
      this.seconds.push(last);
      while (this.seconds[0].second <= second - WINDOW_MS / 1000) this.seconds.shift();
    }
    if (ok) last.ok += 1;
    else last.failed += 1;
  }

  private setState(state: CircuitState): void {
    if (state === this.state) return;
    this.state = state;
    this.onChange(state);
  }
}
