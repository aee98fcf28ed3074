import { capturedLogger } from '../helpers/logs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startService } from '../../src/service';
import { signatureMatches } from '../../src/wechat/signature';
import { buildXml, parseXml } from '../../src/wechat/xml';
import { AES_KEY, APP, TEMPLATES, USER, sleep, startHarness, type Harness } from '../helpers/harness';
import { openReply, postPush } from '../helpers/push';

const CS = '/cgi-bin/message/custom/send';
const calls = (h: Harness, path: string) => h.emulator.control.stats().calls[path] ?? 0;
const notice = (i: number, openid = USER) => ({ openid, template: 'order_paid', data: { order_no: `P${i}`, amount: `${i}.00` } });
const textOf = (i: number) => `Your order P${i} is paid: ${i}.00.`;

/** Enqueues notices whose template is gone, so each goes to the fallback, and waits for `status`. */
async function fallbacks(h: Harness, count: number, status: 'fallback_sent' | 'awaiting_interaction', openid = USER, from = 1) {
  const ids: string[] = [];
  for (let i = from; i < from + count; i++) {
    const { body } = await h.enqueue(notice(i, openid));
    ids.push(body.id as string);
    await h.waitFor(body.id as string, ['fallback_sent', 'awaiting_interaction']);
  }
  for (const id of ids) await h.waitFor(id, status);
  return ids;
}

describe('the customer-service window', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
  });
  afterEach(async () => {
    await h.close();
  });

  it('a user message opens 5 messages; the 6th notice is parked without an API call', async () => {
    await h.emulator.control.userSendsText(USER, 'hi');
    await fallbacks(h, 5, 'fallback_sent');
    expect(calls(h, CS)).toBe(5);
    const [sixth] = await fallbacks(h, 1, 'awaiting_interaction', USER, 6);
    expect(calls(h, CS)).toBe(5);
    expect(JSON.stringify((await h.get(sixth)).history)).toContain('customer-service window closed (known), no call');
  });

  it('a user never seen is tried; 45015 parks the notice and later ones skip the call', async () => {
    const [first] = await fallbacks(h, 1, 'awaiting_interaction');
    expect(calls(h, CS)).toBe(1);
    expect(JSON.stringify((await h.get(first)).history)).toContain('45015');
    await fallbacks(h, 1, 'awaiting_interaction', USER, 2);
    expect(calls(h, CS)).toBe(1);
  });

  it('the next message: the oldest notice is the passive reply, the rest go out in order within the quota', async () => {
    const ids = await fallbacks(h, 8, 'awaiting_interaction');
    const answer = await h.emulator.control.userSendsText(USER, 'any news?');
    expect(answer.reply).toBe(textOf(1));
    const sent = [ids[0], ...ids.slice(1, 6)];
    for (const id of sent) await h.waitFor(id, 'fallback_sent');
    await sleep(100);
    expect((await h.get(ids[6])).status).toBe('awaiting_interaction');
    expect((await h.get(ids[7])).status).toBe('awaiting_interaction');
    const inbox = h.emulator.control.inbox(USER);
    expect(inbox.map((e) => e.channel)).toEqual(['passive_reply', ...Array(5).fill('customer_service')]);
    expect(inbox.map((e) => e.text)).toEqual([1, 2, 3, 4, 5, 6].map(textOf));
    expect((await h.get(ids[0])).channel).toBe('passive_reply');
    // the next message delivers the last two
    await h.emulator.control.userSendsText(USER, 'more?');
    await h.waitFor(ids[6], 'fallback_sent');
    await h.waitFor(ids[7], 'fallback_sent');
    expect(h.emulator.control.inbox(USER).map((e) => e.text).slice(6)).toEqual([textOf(7), textOf(8)]);
  });

  it('a follow delivers one as the reply and 3 through customer service', async () => {
    const ids = await fallbacks(h, 5, 'awaiting_interaction');
    const answer = await h.emulator.control.subscribe(USER);
    expect(answer.reply).toBe(textOf(1));
    for (const id of ids.slice(0, 4)) await h.waitFor(id, 'fallback_sent');
    await sleep(100);
    expect((await h.get(ids[4])).status).toBe('awaiting_interaction');
    expect(h.emulator.control.inbox(USER).map((e) => e.channel)).toEqual(['passive_reply', 'customer_service', 'customer_service', 'customer_service']);
  });

  it('an unfollow closes the window', async () => {
    await h.emulator.control.userSendsText(USER, 'hi');
    await h.emulator.control.unsubscribe(USER);
    h.emulator.control.addUser({ openid: USER, subscribed: true }); // follows again without an event wxreach saw
    await fallbacks(h, 1, 'awaiting_interaction');
    expect(calls(h, CS)).toBe(0);
  });

  it('a re-sent push gets the same reply, and the notice is delivered once', async () => {
    const [id] = await fallbacks(h, 1, 'awaiting_interaction');
    const xml = buildXml({ ToUserName: 'gh_test', FromUserName: USER, CreateTime: Math.floor(Date.now() / 1000), MsgType: 'text', Content: 'hi', MsgId: 24001234567890123n });
    const answers = await Promise.all([1, 2].map(() => postPush(h.service.url, xml, { token: APP.token })));
    const third = await postPush(h.service.url, xml, { token: APP.token });
    const replies = [...answers, third].map((a) => a.text).filter((t) => t !== 'success');
    expect(replies.length).toBeGreaterThanOrEqual(2); // the first, and the re-send after it was recorded
    for (const r of replies) expect((await parseXml(r)).Content).toBe(textOf(1));
    const n = await h.get(id);
    expect(n).toMatchObject({ status: 'fallback_sent', channel: 'passive_reply' });
    expect((n.history as unknown[]).length).toBe(4); // accepted, fallback_pending, awaiting_interaction, fallback_sent
  });

  it('two instances receiving pushes of the same user at once deliver each notice exactly once', async () => {
    const ids = await fallbacks(h, 5, 'awaiting_interaction');
    // The user writes (WeChat's window opens: 5 messages); the pushes below are what wxreach sees of it.
    const sink = createServer((_req, res) => res.end('success'));
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    h.emulator.control.setCallbackUrl(`http://127.0.0.1:${(sink.address() as AddressInfo).port}/`);
    await h.emulator.control.userSendsText(USER, 'hello');
    h.emulator.control.setCallbackUrl(`${h.service.url}/wechat`);
    sink.closeAllConnections();
    sink.close();
    const second = await startService({ config: h.config, store: h.store, log: capturedLogger('error').log });
    try {
      const push = (i: number) =>
        buildXml({ ToUserName: 'gh_test', FromUserName: USER, CreateTime: Math.floor(Date.now() / 1000), MsgType: 'text', Content: `m${i}`, MsgId: 25000000000000000n + BigInt(i) });
      const answers = await Promise.all([
        postPush(h.service.url, push(1), { token: APP.token }),
        postPush(second.url, push(2), { token: APP.token }),
        postPush(h.service.url, push(3), { token: APP.token }),
        postPush(second.url, push(4), { token: APP.token }),
      ]);
      const replied = answers.filter((a) => a.text !== 'success');
      expect(replied.length).toBeGreaterThanOrEqual(1);
      for (const id of ids) await h.waitFor(id, 'fallback_sent');
      const channels = await Promise.all(ids.map(async (id) => (await h.get(id)).channel));
      expect(channels.filter((c) => c === 'passive_reply')).toHaveLength(replied.length);
      // every notice exactly once: passive replies in the answers, the rest in the inbox
      const csTexts = h.emulator.control.inbox(USER).filter((e) => e.channel === 'customer_service').map((e) => e.text);
      const replyTexts = await Promise.all(replied.map(async (a) => (await parseXml(a.text)).Content));
      expect([...csTexts, ...replyTexts].sort()).toEqual([1, 2, 3, 4, 5].map(textOf).sort());
    } finally {
      await second.stop();
    }
  });
});

describe('parked notices expire', () => {
  it('ends failed with reason expired after window.parkSeconds', async () => {
    const h = await startHarness({ config: (c) => ({ ...c, window: { parkSeconds: 1 } }) });
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      const [id] = await fallbacks(h, 1, 'awaiting_interaction');
      const n = await h.waitFor(id, 'failed', 4000);
      expect(n.reason).toBe('expired');
      const answer = await h.emulator.control.userSendsText(USER, 'hi');
      expect(answer.reply).toBeNull();
    } finally {
      await h.close();
    }
  });
});

describe('forwarding to the business bot (forward.url)', () => {
  let bot: Server;
  let botUrl: string;
  let botReply: (content: string, from: string, to: string) => string | null;
  const seen: Array<{ content?: string; signed: boolean }> = [];
  beforeAll(async () => {
    bot = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', async () => {
        const q = new URL(req.url ?? '/', 'http://x').searchParams;
        const signed = signatureMatches(q.get('signature'), ['bottoken', q.get('timestamp') ?? '', q.get('nonce') ?? '']);
        const f = await parseXml(body);
        seen.push({ content: f.Content, signed });
        const reply = signed ? botReply(f.Content ?? '', f.ToUserName, f.FromUserName) : null;
        res.end(reply ?? 'success');
      });
    });
    await new Promise<void>((r) => bot.listen(0, '127.0.0.1', r));
    botUrl = `http://127.0.0.1:${(bot.address() as AddressInfo).port}/bot`;
  });
  afterAll(async () => {
    await new Promise((r) => bot.close(r));
  });

  const withBot = () =>
    startHarness({
      emulator: { aesKey: AES_KEY },
      config: (c) => ({ ...c, forward: { url: botUrl, token: 'bottoken', timeoutMs: 1000 } }),
    });
  const echo = (content: string, account: string, user: string) =>
    buildXml({ ToUserName: user, FromUserName: account, CreateTime: 1, MsgType: 'text', Content: `bot: ${content}` });

  it('the bot gets the user message re-signed, and its reply reaches the user (encrypted in safe mode)', async () => {
    botReply = echo;
    const h = await withBot();
    try {
      const answer = await h.emulator.control.userSendsText(USER, 'where is my order?');
      expect(answer.reply).toBe('bot: where is my order?');
      expect(answer.raw).toContain('<Encrypt>');
      expect(seen.at(-1)).toEqual({ content: 'where is my order?', signed: true });
    } finally {
      await h.close();
    }
  });

  it('a re-sent push the bot answered gets the same bot reply (encrypted), and the bot sees it once', async () => {
    botReply = echo;
    const h = await withBot();
    try {
      const aes = { key: AES_KEY, appId: APP.appId };
      const xml = buildXml({ ToUserName: 'gh_test', FromUserName: USER, CreateTime: Math.floor(Date.now() / 1000), MsgType: 'text', Content: 'once more', MsgId: 26000000000000001n });
      const before = seen.length;
      const answers = [await postPush(h.service.url, xml, { token: APP.token, aes }), await postPush(h.service.url, xml, { token: APP.token, aes })];
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(a.text).toContain('<Encrypt>');
        expect((await openReply(a.text, aes)).Content).toBe('bot: once more');
      }
      expect(seen.length - before).toBe(1);
    } finally {
      await h.close();
    }
  });

  it('when both have something: the bot answers, and the parked notice goes through customer service', async () => {
    botReply = echo;
    const h = await withBot();
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      const [id] = await fallbacks(h, 1, 'awaiting_interaction');
      const answer = await h.emulator.control.userSendsText(USER, 'hello?');
      expect(answer.reply).toBe('bot: hello?');
      const n = await h.waitFor(id, 'fallback_sent');
      expect(n.channel).toBe('customer_service');
      expect(h.emulator.control.inbox(USER).map((e) => [e.channel, e.text])).toEqual([
        ['passive_reply', 'bot: hello?'],
        ['customer_service', textOf(1)],
      ]);
    } finally {
      await h.close();
    }
  });

  it('when the bot says nothing, the parked notice is the reply', async () => {
    botReply = () => null;
    const h = await withBot();
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      await fallbacks(h, 1, 'awaiting_interaction');
      expect((await h.emulator.control.userSendsText(USER, 'hi')).reply).toBe(textOf(1));
    } finally {
      await h.close();
    }
  });

  it('when the bot answers too late, WeChat gets "success" in time and the notice goes by customer service', async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/bot`;
    const h = await startHarness({ config: (c) => ({ ...c, forward: { url, token: 'bottoken', timeoutMs: 4000 } }) });
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      const [id] = await fallbacks(h, 1, 'awaiting_interaction');
      const started = Date.now();
      const answer = await h.emulator.control.userSendsText(USER, 'hi');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(answer.reply).toBeNull(); // too late to promise a passive reply
      const n = await h.waitFor(id, 'fallback_sent');
      expect(n.channel).toBe('customer_service');
    } finally {
      await h.close();
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('when the bot is down, the parked notice is the reply and WeChat is answered in time', async () => {
    const h = await startHarness({ config: (c) => ({ ...c, forward: { url: 'http://127.0.0.1:9/down', token: 'bottoken', timeoutMs: 1000 } }) });
    try {
      h.emulator.control.deleteTemplate(TEMPLATES.order_paid.id);
      await fallbacks(h, 1, 'awaiting_interaction');
      const started = Date.now();
      expect((await h.emulator.control.userSendsText(USER, 'hi')).reply).toBe(textOf(1));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(h.logs()).toMatch(/push not forwarded/);
    } finally {
      await h.close();
    }
  });
});
