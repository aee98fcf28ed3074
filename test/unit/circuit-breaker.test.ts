import { CircuitBreaker, type CircuitState } from '../../src/wechat/circuit-breaker';
import { WechatTransportError } from '../../src/wechat/api-errors';

function rig() {
  let t = 1_000_000;
  const changes: CircuitState[] = [];
  const breaker = new CircuitBreaker(() => t, (s) => changes.push(s));
  return { breaker, changes, advance: (ms: number) => (t += ms), now: () => t };
}

/** Calls `admit` and reports whether the call could go out. */
function admitted(b: CircuitBreaker): boolean {
  try {
    b.admit('/cgi-bin/message/template/send');
    return true;
  } catch (err) {
    expect(err).toBeInstanceOf(WechatTransportError);
    expect((err as WechatTransportError).sent).toBe('no');
    return false;
  }
}

describe('circuit breaker (WeChat reachable or not)', () => {
  it('stays closed for a few failures among answers, and errcode answers count as answers', () => {
    const { breaker } = rig();
    for (let i = 0; i < 20; i++) breaker.succeeded();
    for (let i = 0; i < 4; i++) breaker.failed();
    expect(breaker.isOpen).toBe(false);
    expect(admitted(breaker)).toBe(true);
  });

  it('opens when most calls of the last seconds got no answer, and then refuses calls at once (nothing sent)', () => {
    const { breaker, changes } = rig();
    for (let i = 0; i < 5; i++) breaker.failed();
    expect(changes).toEqual(['open']);
    expect(admitted(breaker)).toBe(false);
    expect(breaker.view()).toMatchObject({ state: 'open', shortCircuited: 1 });
  });

  it('forgets failures older than its window', () => {
    const { breaker, advance } = rig();
    for (let i = 0; i < 4; i++) breaker.failed();
    advance(11_000);
    breaker.failed();
    expect(breaker.isOpen).toBe(false);
  });

  it('lets one probe through after the pause; its answer closes the circuit', () => {
    const { breaker, changes, advance } = rig();
    for (let i = 0; i < 5; i++) breaker.failed();
    advance(1000);
    expect(admitted(breaker)).toBe(true); // the probe
    expect(admitted(breaker)).toBe(false); // others wait for its answer
    breaker.succeeded();
    expect(changes).toEqual(['open', 'probing', 'closed']);
    expect(admitted(breaker)).toBe(true);
    expect(breaker.view()).toMatchObject({ state: 'closed', openSince: null, probeAt: null });
  });

  it('doubles the pause after each failed probe, up to 30 s', () => {
    const { breaker, advance, now } = rig();
    for (let i = 0; i < 5; i++) breaker.failed();
    const pauses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const pause = (breaker.view().probeAt as number) - now();
      pauses.push(pause);
      advance(pause - 1);
      expect(admitted(breaker)).toBe(false);
      advance(1);
      expect(admitted(breaker)).toBe(true);
      breaker.failed();
    }
    expect(pauses).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});
