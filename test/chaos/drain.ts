import type { BusinessClient } from './business-client';
import { TERMINAL, type Accepted } from './check';
import { pool, sleep } from './run';
import type { Crowd } from './users';
import { keyOf } from './users';

export interface Drained {
  rounds: number;
  /** Texts from users who still had parked notices. */
  texts: number;
  /** Notices still not terminal when the time ran out. */
  pending: Accepted[];
}

/**
 * After the faults: reads every notice's status (into `final`) until all are terminal or
 * `budgetMs` has passed; each round, the users with a parked notice come back to collect it.
 */
export async function drain(accepted: Accepted[], client: BusinessClient, crowd: Crowd, budgetMs: number): Promise<Drained> {
  const deadline = Date.now() + budgetMs;
  let pending = accepted;
  let rounds = 0;
  let texts = 0;
  for (;;) {
    rounds += 1;
    await pool(pending, 32, async (n) => {
      n.final = await client.view(n.id);
    });
    pending = pending.filter((n) => !TERMINAL.has(n.final?.status ?? ''));
    if (pending.length === 0 || Date.now() > deadline) break;
    const parked = new Map(pending.filter((n) => n.final?.status === 'awaiting_interaction').map((n) => crowd.get(n.account, n.openid)).map((r) => [keyOf(r), r]));
    await pool([...parked.values()], 16, async (r) => {
      await r.control.userSendsText(r.openid, 'anything for me?');
      texts += 1;
    });
    await sleep(parked.size > 0 ? 200 : 500);
  }
  return { rounds, texts, pending };
}
