import { callApi, type ApiTarget } from './cli/api-client';
import type { EmulatorControl } from './emulator/control';

/** Where to enqueue: wxreach's base URL, an API key when it needs one, the account when it has several. */
export interface OutcomeTarget extends ApiTarget {
  account?: string;
}

/** The ids of the notices of each outcome. */
export interface OutcomeMix {
  /** The template arrives; the receipt says success. */
  delivered: string;
  /** The receipt says `failed:user block`: the text goes by customer service (the user had written). */
  userBlock: string;
  /** No receipt comes: after `receipt.timeoutSeconds` the text goes by customer service. */
  noReceipt: string;
  /** The template is gone and the user never wrote: the text waits for the user. */
  parked: string;
  /** Parked like `parked`, then the user writes: the text is the passive reply. */
  passiveReply: string;
  /** Not a follower: WeChat refuses both ways. */
  failed: string;
}

/** The users of the mix (each new follower unless said otherwise). */
const USERS = {
  delivered: 'oDEMO_mix_delivered_01',
  userBlock: 'oDEMO_mix_userblock_02',
  noReceipt: 'oDEMO_mix_noreceipt_03',
  parked: 'oDEMO_mix_quiet_04',
  passiveReply: 'oDEMO_mix_returns_05',
  failed: 'oDEMO_mix_stranger_06',
} as const;

/** A notice is parked this quickly in the emulator (the passive reply needs it parked first). */
const PARK_WAIT_MS = 10_000;

/**
 * Enqueues one notice of each outcome through the API (`order_paid` works, `order_shipped` is
 * gone on the WeChat side), staging the users in the emulator first; returns once the passive
 * reply has been given (the other notices finish on their own). Used by demo mode and by the
 * console's browser tests.
 */
export async function enqueueOutcomeMix(target: OutcomeTarget, control: EmulatorControl): Promise<OutcomeMix> {
  for (const [outcome, openid] of Object.entries(USERS)) if (outcome !== 'failed') control.addUser({ openid, subscribed: true });
  // these two wrote to the account, so their customer-service windows are open for the fallback
  await control.userSendsText(USERS.userBlock, 'where is my order?');
  await control.userSendsText(USERS.noReceipt, 'hello');
  control.setReceiptOutcome({ openid: USERS.userBlock, outcome: 'failed:user block' });
  control.setReceiptOutcome({ openid: USERS.noReceipt, outcome: 'none' });

  const account = target.account === undefined ? {} : { account: target.account };
  const paid = (openid: string, order: string) => ({ ...account, openid, template: 'order_paid', data: { order_no: order, amount: '39.80' } });
  const shipped = (openid: string, order: string) => ({ ...account, openid, template: 'order_shipped', data: { order_no: order, carrier: 'SF Express', tracking_no: `SF${order}` } });
  const enqueue = async (body: unknown) => ((await callApi(target, 'POST', '/v1/notifications', { body })).body as { id: string }).id;
  const mix: OutcomeMix = {
    delivered: await enqueue(paid(USERS.delivered, 'A2001')),
    userBlock: await enqueue(paid(USERS.userBlock, 'A2002')),
    noReceipt: await enqueue(paid(USERS.noReceipt, 'A2003')),
    parked: await enqueue(shipped(USERS.parked, 'A2004')),
    passiveReply: await enqueue(shipped(USERS.passiveReply, 'A2005')),
    failed: await enqueue(paid(USERS.failed, 'A2006')),
  };
  const deadline = Date.now() + PARK_WAIT_MS;
  while (((await callApi(target, 'GET', `/v1/notifications/${mix.passiveReply}`)).body as { status: string }).status !== 'awaiting_interaction') {
    if (Date.now() > deadline) throw new Error(`notice ${mix.passiveReply} was not parked within ${PARK_WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await control.userSendsText(USERS.passiveReply, 'I am back');
  return mix;
}
