import { WechatCipher } from '../../src/wechat/cipher';
import { isNoReply, openReply, replyBody, textReply } from '../../src/wechat/replies';
import { parseXml } from '../../src/wechat/xml';

const TOKEN = 'testtoken';
const cipher = new WechatCipher('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'wx0123456789abcdef');
const push = { openid: 'oUSER', account: 'gh_abc' };

describe('passive replies', () => {
  it('a text reply goes back to the user, from the account, with CreateTime in seconds', async () => {
    const xml = textReply(push, 'Your order shipped', 1_700_000_000_999);
    expect(await parseXml(xml)).toEqual({ ToUserName: 'oUSER', FromUserName: 'gh_abc', CreateTime: '1700000000', MsgType: 'text', Content: 'Your order shipped' });
  });

  it('plaintext replies go as they are; sealed ones open with the same keys and the echoed timestamp', async () => {
    const xml = textReply(push, 'hi', Date.now());
    expect(replyBody(xml)).toBe(xml);
    const sealed = replyBody(xml, { cipher, token: TOKEN, timestamp: '1700000000' });
    const outer = await parseXml(sealed);
    expect(Object.keys(outer)).toEqual(['Encrypt', 'MsgSignature', 'TimeStamp', 'Nonce']);
    expect(outer.TimeStamp).toBe('1700000000');
    expect(await openReply(sealed, { cipher, token: TOKEN }, true)).toMatchObject({ ToUserName: 'oUSER', Content: 'hi' });
  });

  it('refuses a sealed reply signed with another token, and a plaintext one where only sealed ones go', async () => {
    const sealed = replyBody(textReply(push, 'hi', Date.now()), { cipher, token: 'othertoken', timestamp: '1700000000' });
    await expect(openReply(sealed, { cipher, token: TOKEN }, true)).rejects.toThrow(/msg_signature/);
    await expect(openReply(textReply(push, 'hi', Date.now()), { cipher, token: TOKEN }, true)).rejects.toThrow(/encrypted reply/);
    await expect(openReply(textReply(push, 'hi', Date.now()), undefined, false)).resolves.toMatchObject({ Content: 'hi' });
  });

  it('"success" and an empty body mean no reply', () => {
    expect(['success', '', '  ', 'success\n'].map(isNoReply)).toEqual([true, true, true, true]);
    expect(isNoReply('<xml></xml>')).toBe(false);
  });
});
