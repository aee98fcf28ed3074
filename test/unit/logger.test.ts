import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => lines.join('') };
}

describe('logger redaction', () => {
  const secret = 'APPSECRET_9f8e7d6c5b4a';
  const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
  const apiKey = 'biz-key-0123456789abcdef';

  it('writes JSON lines and never a secret, by name, in URLs, in errors or by value', async () => {
    const out = capture();
    const log = createLogger({ level: 'debug', stream: out.stream, secrets: [secret, aesKey, apiKey] });
    log.secret('ACCESS_TOKEN_abcdef123456');
    const err = new Error(`GET https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=${secret} failed`);
    const caller = { config: { appSecret: secret, port: 3000 } };
    log.error('token fetch failed', { err, url: '/cgi-bin/message/template/send?access_token=ACCESS_TOKEN_abcdef123456&x=1' });
    log.info('config', caller);
    log.warn(`key ${apiKey} used`, { headers: { authorization: `Bearer ${apiKey}` }, nested: { deep: [`aes=${aesKey}`] } });
    await new Promise((r) => setImmediate(r));
    const text = out.text();
    for (const s of [secret, aesKey, apiKey, 'ACCESS_TOKEN_abcdef123456']) expect(text).not.toContain(s);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ level: 'error', message: 'token fetch failed', err: { name: 'Error' } });
    expect(lines[0].url).toBe('/cgi-bin/message/template/send?access_token=[REDACTED]&x=1');
    expect(lines[1].config).toEqual({ appSecret: '[REDACTED]', port: 3000 });
    // the caller's object is left alone
    expect(caller.config.appSecret).toBe(secret);
  });
});

describe('logger redaction of access tokens (secrets with an end)', () => {
  afterEach(() => jest.useRealTimers());

  it('redacts every token of thousands of accounts wherever it stands delimited, and forgets one a day after it expired', () => {
    jest.useFakeTimers({ now: 1_800_000_000_000 });
    const out = capture();
    const log = createLogger({ level: 'info', stream: out.stream });
    const hour = 3600_000;
    const tokenOf = (i: number) => `${90 + (i % 9)}_tok${String(i).padStart(6, '0')}-Zq_${'x'.repeat(100)}`;
    for (let i = 0; i < 5000; i++) log.secretUntil(tokenOf(i), Date.now() + 2 * hour);
    const early = tokenOf(17);
    log.info(`call with ${early} failed`, { url: `/x?y=1&t=${tokenOf(4321)}`, body: JSON.stringify({ token: tokenOf(4999) }), err: new Error(`token "${tokenOf(0)}" refused`) });
    const first = out.text();
    for (const i of [17, 4321, 4999, 0]) expect(first).not.toContain(tokenOf(i));
    expect(JSON.parse(first)).toMatchObject({ message: 'call with [REDACTED] failed', url: '/x?y=1&t=[REDACTED]', err: { message: 'token "[REDACTED]" refused' } });
    // expired an hour ago: still redacted; a day after it expired, and once another token came, forgotten
    jest.setSystemTime(Date.now() + 3 * hour);
    log.info(`still ${early}`);
    jest.setSystemTime(Date.now() + 24 * hour);
    log.secretUntil(tokenOf(5000), Date.now() + 2 * hour);
    log.info(`now ${early} and ${tokenOf(5000)}`);
    const [, still, now] = out.text().trim().split('\n').map((line) => JSON.parse(line) as { message: string });
    expect(still.message).toBe('still [REDACTED]');
    expect(now.message).toBe(`now ${early} and [REDACTED]`);
  });

  it('finds a token that is the whole text, begins it or ends it, beside runs of token characters that are not tokens', () => {
    const out = capture();
    const log = createLogger({ level: 'info', stream: out.stream });
    const token = `tok_${'y'.repeat(60)}`;
    log.secretUntil(token, Date.now() + 3600_000);
    const longRun = 'z'.repeat(200); // a run longer than the token, but not one
    log.info(token, { begins: `${token}.tail`, ends: `${longRun} ${token}`, glued: `x${token}`, short: `n03${'0'.repeat(40)}` });
    expect(JSON.parse(out.text())).toMatchObject({
      message: '[REDACTED]',
      begins: '[REDACTED].tail',
      ends: `${longRun} [REDACTED]`,
      glued: `x${token}`, // glued to other token characters: not found, as documented in the redactor
      short: `n03${'0'.repeat(40)}`,
    });
  });

  it('forgets at once a token that ended more than a day ago (it grants nothing any more)', () => {
    const out = capture();
    const log = createLogger({ level: 'info', stream: out.stream });
    log.secretUntil('TOKEN_long_gone_0123456789', Date.now() - 2 * 24 * 3600_000);
    log.info('plain line TOKEN_long_gone_0123456789');
    expect(JSON.parse(out.text()).message).toBe('plain line TOKEN_long_gone_0123456789');
  });

  it("finds WeChat's @@@ secrets as tokens: a platform's tickets are forgotten a day after they end, refresh tokens (no end) kept", () => {
    jest.useFakeTimers({ now: 1_800_000_000_000 });
    const out = capture();
    const log = createLogger({ level: 'info', stream: out.stream });
    const day = 24 * 3600_000;
    // a ticket pushed every 10 minutes for a day, each good for 12 hours; thousands of merchants' refresh tokens
    const ticketOf = (i: number) => `ticket@@@${String(i).padStart(4, '0')}_${'T'.repeat(60)}`;
    for (let i = 0; i < 144; i++) log.secretUntil(ticketOf(i), Date.now() + 12 * 3600_000);
    const refreshOf = (i: number) => `refreshtoken@@@${String(i).padStart(5, '0')}-${'R'.repeat(40)}`;
    for (let i = 0; i < 5000; i++) log.secretUntil(refreshOf(i), Infinity);
    log.info(`ticket ${ticketOf(143)} and "${refreshOf(4999)}"`);
    jest.setSystemTime(Date.now() + 365 * day);
    log.secretUntil(ticketOf(144), Date.now() + 12 * 3600_000); // a new ticket comes: the old ones are swept
    log.info(`old ${ticketOf(143)}, new ${ticketOf(144)}, refresh ${refreshOf(0)}`);
    const [first, later] = out.text().trim().split('\n').map((line) => JSON.parse(line) as { message: string });
    expect(first.message).toBe('ticket [REDACTED] and "[REDACTED]"');
    expect(later.message).toBe(`old ${ticketOf(143)}, new [REDACTED], refresh [REDACTED]`);
  });

  it('keeps a secret with an end that is not made of token characters for good, found anywhere', () => {
    const out = capture();
    const log = createLogger({ level: 'info', stream: out.stream });
    log.secretUntil('odd token/with+slashes==', Date.now() - 1);
    log.info('inside:odd token/with+slashes==!');
    expect(JSON.parse(out.text()).message).toBe('inside:[REDACTED]!');
  });
});

describe('logger lines', () => {
  it('writes a line only at or above its level, each one JSON object with the fields, level, message and an ISO timestamp', () => {
    const out = capture();
    const log = createLogger({ level: 'warn', stream: out.stream });
    log.debug('not written', { a: 1 });
    log.info('not written either');
    log.warn('written', { id: 'n1', count: 2, big: 10n, gone: undefined, list: [1, undefined] });
    log.error('also written');
    const lines = out.text().split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]);
    expect(first).toEqual({ id: 'n1', count: 2, big: '10', list: [1, null], level: 'warn', message: 'written', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    // the line's own keys come first, then the fields, the message last
    expect(Object.keys(first)).toEqual(['level', 'timestamp', 'id', 'count', 'big', 'list', 'message']);
    expect(JSON.parse(lines[1])).toMatchObject({ level: 'error', message: 'also written' });
  });

  it("stamps each line with the millisecond it is written in, a burst's lines and the next millisecond's alike", () => {
    jest.useFakeTimers({ now: Date.parse('2026-12-01T02:10:00.000Z') });
    try {
      const out = capture();
      const log = createLogger({ level: 'info', stream: out.stream });
      log.info('one');
      log.info('two');
      jest.advanceTimersByTime(1);
      log.info('three');
      jest.setSystemTime(Date.parse('2027-01-01T00:00:00.250Z'));
      log.info('four');
      const stamps = out.text().trim().split('\n').map((l) => (JSON.parse(l) as { timestamp: string }).timestamp);
      expect(stamps).toEqual(['2026-12-01T02:10:00.000Z', '2026-12-01T02:10:00.000Z', '2026-12-01T02:10:00.001Z', '2027-01-01T00:00:00.250Z']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('appends a `message` among the fields to the message, and redacts it too', () => {
    const out = capture();
    const log = createLogger({ level: 'info', stream: out.stream, secrets: ['SECRET_abcdef'] });
    log.info('request failed', { message: 'upstream said SECRET_abcdef', id: 'n2' });
    expect(JSON.parse(out.text())).toMatchObject({ message: 'request failed upstream said [REDACTED]', id: 'n2' });
  });

  it('refuses a level it does not know', () => {
    expect(() => createLogger({ level: 'loud' })).toThrow(/unknown log level "loud"/);
  });
});
