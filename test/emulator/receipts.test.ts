import type { EmulatorHandle } from '../../src/emulator';
import { AES_KEY, APPID, CallbackSink, TOKEN, emulator, independentDecrypt, sha1Sorted, sleep, staged, xmlFields, type Received } from './helpers';

/** Checks a push's query signature(s) independently and returns its plaintext XML. */
function openPush(r: Received, mode: 'plain' | 'safe' | 'compatible'): string {
  const q = r.query;
  expect(q.get('signature')).toBe(sha1Sorted([TOKEN, q.get('timestamp')!, q.get('nonce')!]));
  // The signature timestamp is wall-clock seconds, whatever the virtual clock says.
  expect(Math.abs(Number(q.get('timestamp')) - Date.now() / 1000)).toBeLessThan(5);
  expect(r.contentType).toMatch(/^text\/xml/);
  if (mode === 'plain') {
    expect(q.has('encrypt_type')).toBe(false);
    return r.body;
  }
  expect(q.get('encrypt_type')).toBe('aes');
  const outer = xmlFields(r.body);
  expect(q.get('msg_signature')).toBe(sha1Sorted([TOKEN, q.get('timestamp')!, q.get('nonce')!, outer.Encrypt]));
  if (mode === 'safe') expect(Object.keys(outer)).toEqual(['ToUserName', 'Encrypt']);
  return independentDecrypt(AES_KEY, outer.Encrypt, APPID);
}

const RECEIPT = /^<xml><ToUserName><!\[CDATA\[gh_wxreachdemo\]\]><\/ToUserName><FromUserName><!\[CDATA\[oUSER1\]\]><\/FromUserName><CreateTime>\d+<\/CreateTime><MsgType><!\[CDATA\[event\]\]><\/MsgType><Event><!\[CDATA\[TEMPLATESENDJOBFINISH\]\]><\/Event><MsgID>(\d{19})<\/MsgID><Status><!\[CDATA\[(.*)\]\]><\/Status><\/xml>$/;

describe.each(['plain', 'safe', 'compatible'] as const)('emulator receipts (%s mode)', (mode) => {
  let emu: EmulatorHandle;
  let sink: CallbackSink;
  beforeAll(async () => {
    sink = await new CallbackSink().start();
    emu = await emulator({ callbackUrl: sink.url, mode, aesKey: mode === 'plain' ? undefined : AES_KEY });
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });
  beforeEach(() => {
    emu.control.reset();
    sink.received.length = 0;
  });

  it('posts TEMPLATESENDJOBFINISH with the msgid of the send, signed (and sealed) as WeChat does', async () => {
    const { openid, template_id, send, data } = await staged(emu);
    const r = await send({ touser: openid, template_id, data });
    const msgid = /"msgid":(\d+)/.exec(r.text)![1];
    const [push] = await sink.waitFor(1);
    expect(push.query.get('openid')).toBe(openid);
    const xml = openPush(push, mode);
    const m = RECEIPT.exec(xml);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(msgid);
    expect(m![2]).toBe('success');
    if (mode === 'compatible') expect(xmlFields(push.body).MsgID).toBe(msgid);
  });

  it('sends the chosen Status per user, and per user + template', async () => {
    const { openid, template_id, send, data } = await staged(emu);
    emu.control.addTemplate({ template_id: 'TPL_OTHER', title: 'Other', content: 'x {{a.DATA}}' });
    emu.control.setReceiptOutcome({ openid, outcome: 'failed:user block' });
    emu.control.setReceiptOutcome({ openid, template_id: 'TPL_OTHER', outcome: 'failed: system failed' });
    await send({ touser: openid, template_id, data });
    await sink.waitFor(1);
    await send({ touser: openid, template_id: 'TPL_OTHER', data: { a: { value: '1' } } });
    const pushes = await sink.waitFor(2);
    expect(pushes.map((p) => RECEIPT.exec(openPush(p, mode))![2])).toEqual(['failed:user block', 'failed: system failed']);
    // A failed delivery never reached the user's screen.
    expect(emu.control.inbox(openid)).toEqual([]);
  });
});

describe('emulator receipt outcomes and re-sends', () => {
  let sink: CallbackSink;
  beforeEach(async () => {
    sink = await new CallbackSink().start();
  });
  afterEach(() => sink.close());

  it('sends no receipt for "none", N receipts for {repeat: N}, and freq-limit failures', async () => {
    const emu = await emulator({ callbackUrl: sink.url });
    try {
      const { openid, template_id, send, data } = await staged(emu);
      emu.control.setReceiptOutcome({ openid, outcome: 'none' });
      await send({ touser: openid, template_id, data });
      await emu.control.whenIdle();
      await sleep(50);
      expect(sink.received).toHaveLength(0);
      expect(emu.control.inbox(openid)).toHaveLength(1);
      emu.control.setReceiptOutcome({ openid, outcome: { repeat: 3 } });
      const r = await send({ touser: openid, template_id, data });
      const pushes = await sink.waitFor(3);
      await emu.control.whenIdle();
      expect(sink.received).toHaveLength(3);
      const msgid = /"msgid":(\d+)/.exec(r.text)![1];
      expect(new Set(pushes.map((p) => p.body)).size).toBe(1);
      expect(xmlFields(pushes[0].body)).toMatchObject({ MsgID: msgid, Status: 'success' });
      emu.control.setReceiptOutcome({ openid, outcome: 'failed:freq limit' });
      await send({ touser: openid, template_id, data });
      expect(xmlFields((await sink.waitFor(4))[3].body).Status).toBe('failed:freq limit');
    } finally {
      await emu.close();
    }
  });

  it('"before_answer": the receipt is acknowledged before the send call answers', async () => {
    const emu = await emulator({ callbackUrl: sink.url, receiptDelayMs: 1000 });
    try {
      const { openid, template_id, send, data } = await staged(emu);
      emu.control.setReceiptOutcome({ openid, template_id, outcome: 'before_answer' });
      let answered = false;
      sink.respond = () => ({ body: answered ? 'late' : 'success', delayMs: 50 });
      const r = await send({ touser: openid, template_id, data });
      answered = true;
      expect(sink.received).toHaveLength(1);
      expect(xmlFields(sink.received[0].body).MsgID).toBe(/"msgid":(\d+)/.exec(r.text)![1]);
      expect(emu.control.stats().callbacks).toEqual({ attempts: 1, delivered: 1, failed: 0 });
    } finally {
      await emu.close();
    }
  });

  it('re-sends when the callback does not answer in time, up to callbackRetries more times', async () => {
    const emu = await emulator({ callbackUrl: sink.url, callbackTimeoutMs: 150, callbackRetries: 3 });
    try {
      const { openid, template_id, send, data } = await staged(emu);
      // Too slow twice, then a 500, then a prompt answer: the 4th delivery is the one that counts.
      sink.respond = (_r, i) => (i < 2 ? { delayMs: 400 } : i === 2 ? { status: 500 } : undefined);
      await send({ touser: openid, template_id, data });
      await sink.waitFor(4);
      await emu.control.whenIdle();
      const plain = sink.received.map((p) => p.body);
      expect(new Set(plain).size).toBe(1); // same plaintext on every re-send
      expect(emu.control.stats().callbacks).toEqual({ attempts: 4, delivered: 1, failed: 0 });
      // A callback that never answers in time gets 1 + 3 deliveries, then the emulator gives up.
      sink.received.length = 0;
      sink.respond = () => ({ delayMs: 400 });
      await send({ touser: openid, template_id, data });
      await emu.control.whenIdle();
      expect(sink.received).toHaveLength(4);
      expect(emu.control.stats().callbacks).toEqual({ attempts: 8, delivered: 1, failed: 1 });
    } finally {
      await emu.close();
    }
  });
});
