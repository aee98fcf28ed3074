import { parsePush, PushError, receiptOutcome } from '../../src/wechat/push';
import { parseXml, XmlError } from '../../src/wechat/xml';

const base = '<ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName><CreateTime>1395658920</CreateTime>';
const push = async (inner: string) => parsePush(await parseXml(`<xml>${base}${inner}</xml>`));

describe('parsing pushes into one typed value', () => {
  it('reads TEMPLATESENDJOBFINISH with MsgID (capital D) as a string above 2^53', async () => {
    const p = await push('<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>3147483654123456789</MsgID><Status><![CDATA[failed:user block]]></Status>');
    expect(p).toEqual({
      kind: 'receipt',
      openid: 'oia2TjuEGTNoeX76QEjQNrcURxG8',
      account: 'gh_7f083739789a',
      createTime: 1395658920,
      msgid: '3147483654123456789',
      status: 'failed:user block',
      outcome: 'user_block',
      dedupeKey: 'rcpt:oia2TjuEGTNoeX76QEjQNrcURxG8:3147483654123456789:failed:user block',
    });
  });

  it('classifies receipt statuses, including the no-space typo', () => {
    expect(receiptOutcome('success')).toBe('success');
    expect(receiptOutcome('failed:user block')).toBe('user_block');
    expect(receiptOutcome('failed: system failed')).toBe('system_failed');
    expect(receiptOutcome('failed:system failed')).toBe('system_failed');
    expect(receiptOutcome('failed:freq limit')).toBe('other_failed');
    expect(receiptOutcome('weird')).toBe('other_failed');
  });

  it.each(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'])('a %s message is a user message deduped by MsgId', async (type) => {
    const p = await push(`<MsgType><![CDATA[${type}]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>23456789012345678</MsgId>`);
    expect(p).toMatchObject({ kind: 'message', msgType: type, msgId: '23456789012345678', dedupeKey: 'msg:23456789012345678' });
  });

  it.each([
    ['<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123]]></EventKey>', { kind: 'subscribe', eventKey: 'qrscene_123' }],
    ['<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey>', { kind: 'subscribe', eventKey: undefined }],
    ['<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[123]]></EventKey><Ticket><![CDATA[T]]></Ticket>', { kind: 'scan', eventKey: '123' }],
    ['<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_1]]></EventKey>', { kind: 'menu_click', event: 'CLICK' }],
    ['<Event><![CDATA[scancode_push]]></Event><EventKey><![CDATA[k]]></EventKey><ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo>', { kind: 'menu_click', event: 'scancode_push' }],
    ['<Event><![CDATA[unsubscribe]]></Event>', { kind: 'unsubscribe' }],
    ['<Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://x]]></EventKey>', { kind: 'other', event: 'VIEW' }],
  ])('event %#', async (inner, expected) => {
    const p = await push(`<MsgType><![CDATA[event]]></MsgType>${inner}`);
    expect(p).toMatchObject(expected);
  });

  it('keys events on sender, CreateTime, Event and EventKey: two in one second are two pushes', async () => {
    const event = (inner: string) => push(`<MsgType><![CDATA[event]]></MsgType>${inner}`);
    const keys = await Promise.all([
      event('<Event><![CDATA[LOCATION]]></Event><Latitude>23.1</Latitude><Longitude>113.3</Longitude><Precision>50</Precision>'),
      event('<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[T]]></Ticket>'),
      event('<Event><![CDATA[subscribe]]></Event>'),
      event('<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_1]]></EventKey>'),
      event('<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_2]]></EventKey>'),
    ]).then((ps) => ps.map((p) => p.dedupeKey));
    expect(keys).toEqual([
      'ev:oia2TjuEGTNoeX76QEjQNrcURxG8:1395658920:LOCATION:',
      'ev:oia2TjuEGTNoeX76QEjQNrcURxG8:1395658920:subscribe:qrscene_123',
      'ev:oia2TjuEGTNoeX76QEjQNrcURxG8:1395658920:subscribe:',
      'ev:oia2TjuEGTNoeX76QEjQNrcURxG8:1395658920:CLICK:MENU_1',
      'ev:oia2TjuEGTNoeX76QEjQNrcURxG8:1395658920:CLICK:MENU_2',
    ]);
  });

  it('refuses pushes that lack what every push has, or a usable MsgID', async () => {
    await expect(parseXml('<xml><MsgType>text</MsgType></xml>').then(parsePush)).rejects.toThrow(PushError);
    await expect(push('<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><MsgID>abc</MsgID><Status>success</Status>')).rejects.toThrow(/MsgID/);
    await expect(parseXml(`<xml>${base.replace('1395658920', 'soon')}<MsgType>text</MsgType></xml>`).then(parsePush)).rejects.toThrow(/CreateTime/);
  });

  it('refuses repeated fields, empty bodies and entities, and keeps CDATA text intact', async () => {
    await expect(parseXml(`<xml>${base}${base}</xml>`)).rejects.toThrow(XmlError);
    await expect(parseXml('')).rejects.toThrow(XmlError);
    await expect(parseXml('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>')).rejects.toThrow(XmlError);
    await expect(parseXml('<xml><constructor>x</constructor></xml>')).rejects.toThrow(/reserved/);
    await expect(parseXml('<xml><__proto__><polluted>yes</polluted></__proto__></xml>')).rejects.toThrow(/reserved/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const f = await parseXml('<xml><Content><![CDATA[a < b & "c"]]></Content></xml>');
    expect(f.Content).toBe('a < b & "c"');
  });
});
