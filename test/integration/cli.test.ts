import { run } from '../../src/cli/wxreach';
import { API_KEY, APP, TEMPLATES, USER, startHarness, type Harness } from '../helpers/harness';

/** The `wxreach` command against the running service (the emulator as WeChat, a real Redis). */
describe('wxreach against a running service', () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    h = await startHarness();
    env = { WXREACH_URL: h.service.url, WXREACH_API_KEY: API_KEY };
  });
  afterAll(() => h.close());

  async function cli(argv: string[], environment: NodeJS.ProcessEnv = env) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: environment });
    return { code, out, err: err.join('\n') };
  }

  const send = ['send', '--openid', USER, '--template', 'order_paid', '--data', 'order_no=A1001', '--data', 'amount=39.80'];

  it('send, then status: accepted, delivered, with its history', async () => {
    const sent = await cli([...send, '--link', 'https://shop.example/orders/A1001']);
    expect(sent.code).toBe(0);
    const id = /^accepted (\S+) \(queued\); follow it with: wxreach status \1$/.exec(sent.out.join('\n'))?.[1] as string;
    expect(id).toMatch(/^n[0-9a-f]{24}\.wx/);
    await h.waitFor(id, 'delivered');
    expect(h.emulator.control.inbox(USER).at(-1)).toMatchObject({ channel: 'template', template_id: TEMPLATES.order_paid.id, client_msg_id: id });

    const status = await cli(['status', id]);
    expect(status.code).toBe(0);
    expect(status.out).toEqual([
      `id:          ${id}`,
      `account:     ${APP.appId}`,
      'status:      delivered',
      `openid:      ${USER}`,
      'template:    order_paid',
      `templateId:  ${TEMPLATES.order_paid.id}`,
      expect.stringMatching(/^msgid: {7}\d{19}$/),
      'channel:     template',
      'history:',
      expect.stringMatching(/^ {2}\S+Z {2}queued {12}accepted$/),
      expect.stringMatching(/^ {2}\S+Z {2}awaiting_receipt {2}/),
      expect.stringMatching(/^ {2}\S+Z {2}delivered {9}/),
    ]);
    const json = await cli(['status', id, '--json']);
    expect(JSON.parse(json.out.join('\n'))).toEqual(await h.get(id));
  });

  it('send with --json and an idempotency key: the same notification the second time', async () => {
    const first = await cli([...send, '--idempotency-key', 'cli-A1001', '--json']);
    const body = JSON.parse(first.out.join('\n')) as { id: string; status: string };
    expect(body).toEqual({ id: expect.any(String), status: 'queued' });
    const again = await cli([...send, '--idempotency-key', 'cli-A1001']);
    expect([again.code, again.out]).toEqual([0, [`already accepted ${body.id} (queued); follow it with: wxreach status ${body.id}`]]);
  });

  it('a refused send exits 1 with each field at fault; an unknown id exits 1 with the API’s message', async () => {
    const refused = await cli(['send', '--openid', USER, '--template', 'order_paid', '--data', 'order.no=A1']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^wxreach: POST \/v1\/notifications failed: HTTP 400 invalid_request: the body does not match the notification schema\n {2}data\.order\.no: field names: letters, digits and _$/);

    const unknown = await cli(['status', 'n00000000000000000000000000.wx5a7b9c1d3e5f7a9b']);
    expect([unknown.code, unknown.out, unknown.err]).toEqual([1, [], 'wxreach: GET /v1/notifications/n00000000000000000000000000.wx5a7b9c1d3e5f7a9b failed: HTTP 404 not_found: no notification n00000000000000000000000000.wx5a7b9c1d3e5f7a9b']);
    // under --json the API's answer is printed as it came, for scripts
    const json = await cli(['status', 'nope', '--json']);
    expect([json.code, JSON.parse(json.out.join('\n'))]).toEqual([1, { error: { code: 'not_found', message: 'no notification nope' } }]);
  });

  it('templates and accounts print tables; --url and --api-key override the environment', async () => {
    const flags = ['--url', h.service.url, '--api-key', API_KEY];
    const templates = await cli(['templates', ...flags], {});
    expect(templates.code).toBe(0);
    expect(templates.out[0]).toBe(`account ${APP.appId}`);
    expect(templates.out[1]).toMatch(/^NAME {8}VALID {2}TEMPLATE ID {15}SINCE +COUNTS +REASON$/);
    expect(templates.out.slice(2).map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['order_paid', 'yes', TEMPLATES.order_paid.id],
      ['seat_ready', 'yes', TEMPLATES.seat_ready.id],
    ]);
    expect(templates.out.find((l) => l.startsWith('order_paid'))).toMatch(/sent=\d/);

    const accounts = await cli(['accounts', ...flags], {});
    expect([accounts.code, accounts.out]).toEqual([
      0,
      ['APPID               KIND  STATE   TOKEN  TEMPLATES               TEMPLATE QUOTA', `${APP.appId}  own   active  ok     order_paid, seat_ready  ok`],
    ]);

    const unknownAccount = await cli(['templates', '--account', 'wx0000000000000000']);
    expect([unknownAccount.code, unknownAccount.err]).toEqual([1, 'wxreach: GET /v1/templates failed: HTTP 404 not_found: no account wx0000000000000000']);
    const wrongKey = await cli(['accounts', '--api-key', 'not-a-key-of-this-service']);
    expect([wrongKey.code, wrongKey.err]).toEqual([1, 'wxreach: GET /v1/accounts failed: HTTP 401 unauthorized: unknown API key (pass --api-key or set WXREACH_API_KEY)']);
  });
});
