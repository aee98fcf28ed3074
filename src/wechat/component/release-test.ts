import type { Logger } from '../../log/logger';
import type { Push } from '../push';
import { textReply } from '../replies';
import { parseXml } from '../xml';
import type { BackgroundTasks } from './background';

/**
 * WeChat's full-network release test (全网发布接入检测) authorises one of these accounts at
 * random and sends it test messages: five Official Accounts and five mini programs, appid → gh_ id.
 */
export const RELEASE_TEST_ACCOUNTS: ReadonlyMap<string, string> = new Map([
  ['wx570bc396a51b8ff8', 'gh_3c884a361561'],
  ['wx9252c5e0bb1836fc', 'gh_c0f28a78b318'],
  ['wx8e1097c5bc82cde9', 'gh_3f222ed8d140'],
  ['wx14550af28c71a144', 'gh_26128078e9ab'],
  ['wxa35b9c23cfe664eb', 'gh_2b3713f184a6'],
  ['wxd101a85aa106f53e', 'gh_8dad206e9538'],
  ['wxc39235c15087f6f3', 'gh_905ae9d01059'],
  ['wx7720d01d4b2a4500', 'gh_393666f1fdf4'],
  ['wx05d483572dcd5d8b', 'gh_39abb5d4e1b7'],
  ['wx5910277cae6fd970', 'gh_7818dcb60240'],
]);

const TEST_TEXT = 'TESTCOMPONENT_MSG_TYPE_TEXT';
const QUERY_AUTH_CODE = 'QUERY_AUTH_CODE:';

export interface ReleaseTestOptions {
  /** api_query_auth with the test's code, storing what it returns; may fail (61009: the authorised push used it). */
  exchange: (code: string) => Promise<unknown>;
  /** A customer-service text from account `appid` to `openid`, with the account's stored token. */
  sendText: (appid: string, openid: string, text: string) => Promise<void>;
  tasks: BackgroundTasks;
  log: Logger;
  now: () => number;
}

/**
 * Answers the release test's messages to its test accounts (and only to them): the test text
 * gets its passive reply, `QUERY_AUTH_CODE:<code>` an empty answer and then, through the API, the
 * text `<code>_from_api`, and an event the passive text `<Event>from_callback`.
 */
export class ReleaseTest {
  constructor(private readonly o: ReleaseTestOptions) {}

  /**
   * null: `appid` is not a test account, handle the push as usual. Otherwise the answer to give
   * WeChat: '' for an empty body, or the plaintext XML of a passive reply (to be sealed with the
   * platform's push credentials).
   */
  async handle(appid: string, push: Push, plainXml: string): Promise<string | null> {
    if (!RELEASE_TEST_ACCOUNTS.has(appid)) return null;
    const f = await parseXml(plainXml);
    const now = this.o.now();
    if (f.MsgType === 'event') return textReply(push, `${f.Event ?? ''}from_callback`, now);
    if (f.MsgType !== 'text') return '';
    const content = f.Content ?? '';
    if (content === TEST_TEXT) return textReply(push, `${TEST_TEXT}_callback`, now);
    if (content.startsWith(QUERY_AUTH_CODE)) {
      const code = content.slice(QUERY_AUTH_CODE.length);
      this.o.tasks.run('release test: customer-service answer', () => this.answerThroughApi(appid, push.openid, code), { appid });
    }
    return '';
  }

  private async answerThroughApi(appid: string, openid: string, code: string): Promise<void> {
    try {
      await this.o.exchange(code);
    } catch (err) {
      // Exchanged already when the test account was authorised: its stored token serves.
      this.o.log.info('release test: the code was not exchanged again; using the stored token', { appid, reason: (err as Error).message });
    }
    await this.o.sendText(appid, openid, `${code}_from_api`);
  }
}
