import { createHash } from 'node:crypto';
import { startReceiver, testSecret, type Receiver } from '../outbound/receiver';
import type { ChaosRun } from './run';

/** About this share of the webhook-ids the receiver sees is refused (HTTP 500) the first time. */
const REFUSED_SHARE = 0.1;
/** The n-th new webhook-id gets its connection cut (TCP RST) instead of an answer, once in the run. */
const RESET_AT = 40;

export interface ChaosReceiver extends Receiver {
  /** The faults it played: first attempts refused, connections reset. */
  faults: { refused: number; reset: number };
}

/** Whether the first attempt of `id` is refused: from the id, so a repeated run refuses the same share. */
const refusedFirst = (id: string) => createHash('sha256').update(id).digest().readUInt16BE(0) < REFUSED_SHARE * 65_536;

/**
 * The business's webhook receiver in a chaos run, in the test process: it verifies every request
 * with the `standardwebhooks` package (see startReceiver) and refuses the first attempt of some
 * events, so retries happen while instances die. Every later attempt is accepted, so a refused
 * event comes back after the schedule's first delay (5 s) and never waits for the second (5 min).
 */
export async function startChaosReceiver(run: ChaosRun): Promise<ChaosReceiver> {
  const faults = { refused: 0, reset: 0 };
  let fresh = 0;
  const receiver = await startReceiver(testSecret(), ({ id, count }) => {
    if (count > 1) return 204;
    fresh += 1;
    if (fresh === RESET_AT) {
      faults.reset += 1;
      return 'reset';
    }
    if (refusedFirst(id)) {
      faults.refused += 1;
      return 500;
    }
    return 204;
  });
  run.defer(() => receiver.close());
  return Object.assign(receiver, { faults });
}
