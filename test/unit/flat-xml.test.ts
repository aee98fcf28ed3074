import { parseStringPromise } from 'xml2js';
import { WechatCipher } from '../../src/wechat/cipher';
import { sealPush, sealReply } from '../../src/wechat/envelope';
import { parseFlatXml } from '../../src/wechat/flat-xml';
import { buildXml, parseXml, XmlError } from '../../src/wechat/xml';

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const cipher = new WechatCipher(KEY, 'wx0123456789abcdef');

/** What the general parser (xml2js, as parseXml calls it) makes of a body: its string fields, or its error. */
async function general(body: string): Promise<Record<string, string> | string> {
  try {
    const parsed = (await parseStringPromise(body, { explicitArray: false, explicitRoot: false, trim: true })) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed ?? {}).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Bodies as WeChat posts them (the documented samples, the encrypted envelope, the protocol notes' test vector). */
const SAMPLES: Record<string, string> = {
  'TEMPLATESENDJOBFINISH as documented (indented, MsgID)': `<xml>
  <ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>
  <FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
  <CreateTime>1395658920</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>
  <MsgID>200163836</MsgID>
  <Status><![CDATA[failed: system failed]]></Status>
</xml>`,
  'text message of the AES test vector': `<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUSER]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1234567890123456</MsgId></xml>`,
  'safe-mode envelope': sealPush(cipher, 'testtoken', { ToUserName: 'gh_abc' }, '<xml><A>1</A></xml>', '1700000000', '123456789').body,
  'sealed passive reply': sealReply(cipher, 'testtoken', '<xml><A>1</A></xml>', '1700000000', '123456789'),
  'subscribe with an empty EventKey, CRLF line ends': '<xml>\r\n<ToUserName><![CDATA[gh_abc]]></ToUserName>\r\n<FromUserName><![CDATA[oUSER]]></FromUserName>\r\n<CreateTime>1700000000</CreateTime>\r\n<MsgType><![CDATA[event]]></MsgType>\r\n<Event><![CDATA[subscribe]]></Event>\r\n<EventKey><![CDATA[]]></EventKey>\r\n</xml>\r\n',
  'entities and character references in plain text': '<xml><Content>a &lt;b&gt; &amp; &quot;c&apos; &#20320;&#x597D; &#128512;</Content><Empty></Empty></xml>',
  'CDATA split around "]]>", text and CDATA mixed': buildXml({ Content: 'x]]>y  你好 😀', Mixed: 'm' }).replace('<Mixed><![CDATA[m]]></Mixed>', '<Mixed> a <![CDATA[ b ]]> c </Mixed>'),
};

describe('parseFlatXml', () => {
  it.each(Object.entries(SAMPLES))('takes %s, and yields what the general parser yields', async (_name, body) => {
    const flat = parseFlatXml(body);
    expect(flat).not.toBeNull();
    expect(flat).toEqual(await general(body));
    await expect(parseXml(body)).resolves.toEqual(flat);
  });

  it('reads a receipt field by field: MsgID, the exact Status, trimmed values', () => {
    expect(parseFlatXml(SAMPLES['TEMPLATESENDJOBFINISH as documented (indented, MsgID)'])).toEqual({
      ToUserName: 'gh_7f083739789a',
      FromUserName: 'oia2TjuEGTNoeX76QEjQNrcURxG8',
      CreateTime: '1395658920',
      MsgType: 'event',
      Event: 'TEMPLATESENDJOBFINISH',
      MsgID: '200163836',
      Status: 'failed: system failed',
    });
    expect(parseFlatXml(SAMPLES['CDATA split around "]]>", text and CDATA mixed'])).toEqual({ Content: 'x]]>y  你好 😀', Mixed: 'a  b  c' });
  });

  it.each([
    ['a nested element (a menu event)', '<xml><Event><![CDATA[scancode_push]]></Event><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType></ScanCodeInfo></xml>'],
    ['a comment', '<xml><A>1</A><!-- x --></xml>'],
    ['an attribute', '<xml><A b="1">1</A></xml>'],
    ['a self-closing element', '<xml><A/></xml>'],
    ['an XML declaration', '<?xml version="1.0"?><xml><A>1</A></xml>'],
    ['another root', '<root><A>1</A></root>'],
    ['text outside the root', '<xml><A>1</A></xml> x'],
    ['text beside the fields', '<xml><A>1</A> junk </xml>'],
  ])('leaves %s to the general parser', async (_name, body) => {
    expect(parseFlatXml(body)).toBeNull();
    const result = await general(body);
    if (typeof result === 'string') await expect(parseXml(body)).rejects.toBeInstanceOf(XmlError);
    else await expect(parseXml(body)).resolves.toEqual(result);
  });

  it.each([
    ['an unknown entity', '<xml><A>&foo;</A></xml>', /malformed XML: Invalid character entity/],
    ['a bare ampersand', '<xml><A>a & b</A></xml>', /malformed XML/],
    ['a character reference XML does not allow', '<xml><A>&#0;</A></xml>', /malformed XML: Invalid character entity/],
    ['an entity declared in a DOCTYPE (XXE)', '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><A>&e;</A></xml>', /malformed XML/],
    ['an unterminated CDATA section', '<xml><A><![CDATA[x</A></xml>', /malformed XML/],
    ['a wrong closing tag', '<xml><A>1</B></xml>', /malformed XML/],
    ['a truncated body', '<xml><A>1</A>', /malformed XML/],
    ['a repeated field', '<xml><A>1</A><A>2</A></xml>', /field A is repeated or a reserved name/],
    ['a reserved name', '<xml><constructor>1</constructor></xml>', /field constructor is repeated or a reserved name/],
    ['an empty body', '', /XML has no <xml> element/],
  ])('refuses %s (through the general parser, with its clear error)', async (_name, body, error) => {
    expect(parseFlatXml(body)).toBeNull();
    await expect(parseXml(body)).rejects.toThrow(error);
    await expect(parseXml(body)).rejects.toBeInstanceOf(XmlError);
  });

  it('never takes a body the general parser reads otherwise: 3,000 mutations of the samples', async () => {
    // A deterministic walk: each mutation deletes, duplicates or inserts one character somewhere.
    const inserts = ['<', '>', '&', ']', '/', '!', '[', ';', '#', 'x', ' ', '"', '\u0001'];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const bodies = Object.values(SAMPLES);
    let taken = 0;
    for (let k = 0; k < 3000; k++) {
      const body = bodies[k % bodies.length];
      const at = random(body.length);
      const kind = random(3);
      const mutated =
        kind === 0 ? body.slice(0, at) + body.slice(at + 1) : kind === 1 ? body.slice(0, at) + body[at] + body.slice(at) : body.slice(0, at) + inserts[random(inserts.length)] + body.slice(at);
      const flat = parseFlatXml(mutated);
      if (flat === null) continue;
      taken += 1;
      expect([mutated, flat]).toEqual([mutated, await general(mutated)]);
    }
    // a third of them land inside values and still make a flat body: the comparison did run
    expect(taken).toBeGreaterThan(500);
  });
});
