import type { EmulatorHandle } from '../../src/emulator';
import { CallbackSink, classicToken, emulator, post } from './helpers';

describe('emulator: custom/send and the customer-service window', () => {
  let emu: EmulatorHandle;
  let sink: CallbackSink;
  let cs: (body: Record<string, unknown>) => Promise<number>;
  const text = (content: string, touser = 'oU') => ({ touser, msgtype: 'text', text: { content } });

  beforeAll(async () => {
    sink = await new CallbackSink().start();
    emu = await emulator({ callbackUrl: sink.url, tokenExpiresIn: 30 * 86400 }); // outlives the 48 h jumps
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });
  beforeEach(async () => {
    emu.control.reset();
    emu.control.addUser({ openid: 'oU' });
    const token = await classicToken(emu);
    cs = async (body) => (await post(`${emu.url}/cgi-bin/message/custom/send?access_token=${token}`, body)).json.errcode as number;
  });

  it('refuses without an interaction (45015) and for an unknown openid (40003)', async () => {
    expect(await cs(text('hi'))).toBe(45015);
    expect(await cs(text('hi', 'oNOBODY'))).toBe(40003);
  });

  it('a user message opens 5 sends for 48 hours, then 45047; after 48 h 45015', async () => {
    await emu.control.userSendsText('oU', 'hello');
    for (let i = 0; i < 5; i++) expect(await cs(text(`reply ${i}`))).toBe(0);
    expect(await cs(text('one too many'))).toBe(45047);
    await emu.control.userSendsText('oU', 'again'); // a new message replaces the allowance
    expect(await cs(text('ok again'))).toBe(0);
    emu.control.advanceClock(48 * 3600 + 1);
    expect(await cs(text('too late'))).toBe(45015);
    const inbox = emu.control.inbox('oU').filter((e) => e.channel === 'customer_service');
    expect(inbox.map((e) => e.text)).toEqual(['reply 0', 'reply 1', 'reply 2', 'reply 3', 'reply 4', 'ok again']);
  });

  it('a menu click opens 3 sends for one minute, used before the message allowance', async () => {
    await emu.control.userSendsText('oU', 'hello');
    await emu.control.userClicksMenu('oU', 'MENU_ORDERS');
    for (let i = 0; i < 3; i++) expect(await cs(text(`ev ${i}`))).toBe(0);
    expect(emu.control.user('oU').messageAllowance?.left).toBe(5);
    expect(await cs(text('from the message allowance'))).toBe(0);
    expect(emu.control.user('oU').messageAllowance?.left).toBe(4);
  });

  it('event allowances (click, scan, follow) expire after 60 s', async () => {
    await emu.control.userClicksMenu('oU', 'K');
    emu.control.advanceClock(61);
    expect(await cs(text('late'))).toBe(45015);
    await emu.control.userScans('oU', 'scene-1');
    expect(await cs(text('after scan'))).toBe(0);
    emu.control.advanceClock(61);
    await emu.control.subscribe('oNEW');
    for (let i = 0; i < 3; i++) expect(await cs(text('welcome', 'oNEW'))).toBe(0);
    expect(await cs(text('welcome', 'oNEW'))).toBe(45047);
  });

  it('unsubscribe closes every allowance (45015)', async () => {
    await emu.control.userSendsText('oU', 'hello');
    await emu.control.unsubscribe('oU');
    expect(await cs(text('bye'))).toBe(45015);
  });

  it('checks the message: 44004 empty, 45002 over 2048 bytes, 40008 unknown type, news and miniprogrampage accepted', async () => {
    await emu.control.userSendsText('oU', 'hello');
    expect(await cs(text(''))).toBe(44004);
    expect(await cs(text('字'.repeat(683)))).toBe(45002); // 2049 bytes
    expect(await cs(text('字'.repeat(682)))).toBe(0); // 2046 bytes
    expect(await cs({ touser: 'oU', msgtype: 'bogus' })).toBe(40008);
    expect(await cs({ touser: 'oU', msgtype: 'news', news: { articles: [{ title: 'A', url: 'https://x' }, { title: 'B' }] } })).toBe(45008);
    expect(await cs({ touser: 'oU', msgtype: 'news', news: { articles: [{ title: 'Your order', url: 'https://x/1' }] } })).toBe(0);
    expect(await cs({ touser: 'oU', msgtype: 'miniprogrampage', miniprogrampage: { title: 'Open', appid: 'wxmini', pagepath: 'p/1' } })).toBe(0);
    expect(await cs({ touser: 'oU', msgtype: 'text' })).toBe(44004);
    // Rejected messages did not use the window: 5 - 3 accepted = 2 left.
    expect(emu.control.user('oU').messageAllowance?.left).toBe(2);
    expect(emu.control.inbox('oU').slice(-2).map((e) => e.text)).toEqual(['[news] Your order https://x/1', '[miniprogrampage] Open']);
  });
});
