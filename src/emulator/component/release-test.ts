import { randomBytes } from 'node:crypto';
import { isNoReply } from '../../wechat/replies';
import type { Account } from '../account';
import type { DeliveryOptions, DeliveryResult } from '../callback';
import type { EmulatorCore } from '../core';
import { openMessageAllowance } from '../cs-window';
import { event, pushInteraction, textMessage } from '../interactions';
import { resolveAccount } from '../options';
import type { PassiveReplyResult } from '../passive-reply';
import type { EmulatedUser } from '../state';
import type { Component } from './component';
import { RELEASE_TEST_ACCOUNTS } from './test-accounts';

export interface ReleaseCheck {
  name: 'ticket' | 'authorized' | 'text' | 'api' | 'event';
  pass: boolean;
  detail: string;
}

export interface ReleaseReport {
  pass: boolean;
  /** The test account that was authorised for this run. */
  appId: string;
  checks: ReleaseCheck[];
}

/** Every push of the check must be answered within 5 s, and is sent once. */
const ONCE: DeliveryOptions = { timeoutMs: 5000, retries: 0 };
const KEFU_WITHIN_MS = 10_000;
const POLL_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The test account as a merchant of this emulator (added on first use; its own secret is known to nobody). */
function testMerchant(core: EmulatorCore, c: Component, appId: string, account: string): Account {
  const secret = randomBytes(16).toString('hex');
  return c.merchant(appId) ?? core.addAccount(resolveAccount('merchant', { appId, appSecret: secret, token: secret, account }));
}

function answeredSuccess(name: ReleaseCheck['name'], r: DeliveryResult): ReleaseCheck {
  if (!r.ok) return { name, pass: false, detail: r.error };
  const pass = r.body.trim() === 'success';
  return { name, pass, detail: pass ? 'answered success' : `answered ${JSON.stringify(r.body.slice(0, 200))}, expected success` };
}

function passiveText(name: ReleaseCheck['name'], r: PassiveReplyResult, expected: string): ReleaseCheck {
  if (r.reply === expected) return { name, pass: true, detail: `passive reply ${expected}` };
  const got = r.error ?? (r.reply === null ? 'no reply' : `replied ${JSON.stringify(r.reply)}`);
  return { name, pass: false, detail: `${got}; expected the encrypted passive text ${expected}` };
}

/** The query-auth-code case: an empty answer, then the code `_from_api` by customer-service message within 10 s. */
async function kefuCase(merchant: Account, user: EmulatedUser, code: string): Promise<ReleaseCheck> {
  openMessageAllowance(user, merchant.clock.now());
  const r = await pushInteraction(merchant, user, textMessage(merchant, `QUERY_AUTH_CODE:${code}`), ONCE);
  if (r.error !== undefined || r.reply !== null || !isNoReply(r.raw)) {
    return { name: 'api', pass: false, detail: `${r.error ?? `answered ${JSON.stringify(r.raw.slice(0, 200))}`}; expected an empty answer` };
  }
  const expected = `${code}_from_api`;
  const start = Date.now();
  while (Date.now() - start < KEFU_WITHIN_MS) {
    // Only the merchant's authorizer tokens can reach this user (nobody knows the test account's own secret).
    if (user.inbox.some((e) => e.channel === 'customer_service' && e.text === expected)) {
      return { name: 'api', pass: true, detail: `answered empty; customer-service text ${expected} after ${Date.now() - start} ms` };
    }
    await sleep(POLL_MS);
  }
  const others = user.inbox.filter((e) => e.channel === 'customer_service').map((e) => e.text);
  return { name: 'api', pass: false, detail: `no customer-service text ${expected} within 10 s${others.length ? ` (got ${JSON.stringify(others)})` : ''}` };
}

/**
 * WeChat's full-network release check, played against the component's configured URLs with one
 * of WeChat's test accounts (`appId`, else one at random), which is authorised for the run:
 * ticket push → `success`; `authorized` push → `success`; text TESTCOMPONENT_MSG_TYPE_TEXT →
 * encrypted passive text `…_callback`; text `QUERY_AUTH_CODE:<code>` → empty answer, then the
 * customer-service text `<code>_from_api`; a LOCATION event → passive text `LOCATIONfrom_callback`.
 */
export async function runReleaseTest(core: EmulatorCore, c: Component, appId?: string): Promise<ReleaseReport> {
  const test = RELEASE_TEST_ACCOUNTS.find((t) => t.appId === appId) ?? RELEASE_TEST_ACCOUNTS[randomBytes(1)[0] % RELEASE_TEST_ACCOUNTS.length];
  const merchant = testMerchant(core, c, test.appId, test.account);
  const user = merchant.state.newUser(`o${randomBytes(21).toString('base64url')}`, true);
  const checks: ReleaseCheck[] = [answeredSuccess('ticket', await c.pushTicket(ONCE))];
  const auth = c.authorize(merchant, {}, ONCE);
  checks.push(answeredSuccess('authorized', await auth.push));
  openMessageAllowance(user, merchant.clock.now());
  const text = await pushInteraction(merchant, user, textMessage(merchant, 'TESTCOMPONENT_MSG_TYPE_TEXT'), ONCE);
  checks.push(passiveText('text', text, 'TESTCOMPONENT_MSG_TYPE_TEXT_callback'));
  checks.push(await kefuCase(merchant, user, auth.authCode));
  const location = event('LOCATION', { Latitude: '23.137466', Longitude: '113.352425', Precision: '119.385040' });
  checks.push(passiveText('event', await pushInteraction(merchant, user, location, ONCE), 'LOCATIONfrom_callback'));
  return { pass: checks.every((x) => x.pass), appId: test.appId, checks };
}
