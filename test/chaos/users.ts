import type { EmulatorControl } from '../../src/emulator';
import type { ChaosRun } from './run';
import { pool, sleep } from './run';
import { recipientKey, windowGroup, type ChaosTemplates } from './scenario';

/** One user of one account, as the emulator plays it. */
export interface Recipient {
  /** The emulator's control of the user's account. */
  control: EmulatorControl;
  openid: string;
  /** The user's number in its account: decides its window group and which templates it refuses. */
  u: number;
}

export const keyOf = (r: Recipient) => recipientKey(r.control.appId, r.openid);

/**
 * What each user of an account does with each chaos template at the emulator: no receipt, a
 * failed receipt, the success receipt three times; odd-numbered users refuse t_ref.
 */
export function stageOutcomes(recipients: readonly Recipient[], templates: (r: Recipient) => ChaosTemplates): void {
  for (const r of recipients) {
    const t = templates(r);
    const { control, openid } = r;
    control.setReceiptOutcome({ openid, template_id: t.t_none.id, outcome: 'none' });
    control.setReceiptOutcome({ openid, template_id: t.t_block.id, outcome: 'failed:user block' });
    control.setReceiptOutcome({ openid, template_id: t.t_sysfail.id, outcome: 'failed: system failed' });
    control.setReceiptOutcome({ openid, template_id: t.t_repeat.id, outcome: { repeat: 3 } });
    if (r.u % 2 === 1) control.refuseTemplate(openid, t.t_ref.id);
  }
}

/** The users of a chaos run talking to their accounts: opening windows, coming back to collect parked notices. */
export class Crowd {
  /** Messages users sent while the notices flowed (bursts and the steady trickle). */
  comebacks = 0;
  private readonly byKey: Map<string, Recipient>;

  constructor(
    readonly all: readonly Recipient[],
    private readonly random: () => number,
  ) {
    this.byKey = new Map(all.map((r) => [keyOf(r), r]));
  }

  get(account: string, openid: string): Recipient {
    const r = this.byKey.get(recipientKey(account, openid));
    if (!r) throw new Error(`no user ${openid} in account ${account}`);
    return r;
  }

  /** Before the first notice: window group 0 sends a text, group 1 follows, the others never talked to their account. */
  async openWindows(): Promise<void> {
    await pool(this.all, 16, async (r) => {
      if (windowGroup(r.u) === 0) await r.control.userSendsText(r.openid, 'hello');
      if (windowGroup(r.u) === 1) await r.control.subscribe(r.openid);
    });
  }

  /**
   * `size` users who never talked to their account (their notices are parked) write at once, not
   * awaited: right before a crash, so pushes are in the middle of releasing parked notices when it hits.
   */
  burst(size: number): void {
    const never = this.all.filter((r) => windowGroup(r.u) >= 2);
    for (let i = 0; i < size; i++) {
      const r = never[Math.floor(this.random() * never.length)];
      void r.control.userSendsText(r.openid, 'back in a burst').then(() => this.comebacks++);
    }
  }

  /** Three random users write every 300 ms until `stop` (which resolves once the last ones are answered). */
  keepComing(run: ChaosRun): { stop(): Promise<void> } {
    let on = true;
    const loop = (async () => {
      while (on && run.live) {
        const picks = Array.from({ length: 3 }, () => this.all[Math.floor(this.random() * this.all.length)]);
        await Promise.all(picks.map((r) => r.control.userSendsText(r.openid, 'back again').then(() => this.comebacks++)));
        await sleep(300);
      }
    })();
    loop.catch(() => undefined); // awaited by stop(); this only keeps an early failure from being unhandled
    return {
      stop: () => {
        on = false;
        return loop;
      },
    };
  }
}
