import { createDecipheriv, createHash } from 'node:crypto';
import { MemoryStore } from '../../src/store/memory-store';
import { CipherError, WechatCipher } from '../../src/wechat/cipher';
import { openSealed, sealReply } from '../../src/wechat/envelope';
import { signatureMatches, signatureOnlyFor, wechatSignature } from '../../src/wechat/signature';
import { parseXml } from '../../src/wechat/xml';

// The fixed vector of docs/wechat-protocol-notes.md "The AES envelope" (reproduced by wechatpy).
const V = {
  token: 'testtoken',
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  keyHex: '69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051',
  appid: 'wx0123456789abcdef',
  timestamp: '1700000000',
  nonce: '123456789',
  random16: '0123456789abcdef',
  msg: '<xml><ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUSER]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content><MsgId>1234567890123456</MsgId></xml>',
  encrypt:
    'Q3stYC6hdFzMh9T8HCvyDLBdxlyHiALZmW3U7s1kRVp9siBd3s8wZEu96L42GZClNxXyAP2ITSuHzVwRL18V6A6h4X6wOYby0x3XQFuT2jCXawtPTUaKWq/uJXXwn1Gr8yWjBCvyDOsTCKUGVacEh9un3xcYsMy1Cic/Zr7YdvV/uSHTl7EdbOC3w9BhYXMfSN4mDSJUZy/14XWo3wPDZG9CaJ71GzTBLHmzAcXzD/Blsie46Let5qTY0MmphoUPjhGYln+rA7/aRhtkBWZl2kDfjrlGxx5Zpni+xF2kqXfW+d8Ts5SeK8B36nZTf05qSm/P7VsGhxduRAbDoJgcHafrhdSF5kwH1EtIuvl/0kdIIfksZSj2z+MN0wDUmgU3',
  msgSignature: '2af868dc50f8796f01cf07b659af12751d07c51a',
  signature: '1224ee560df62329b43aeee20636a0defb583ee4',
};

describe('signatures (fixed vector)', () => {
  it('computes the URL signature', () => {
    expect(wechatSignature([V.token, V.timestamp, V.nonce])).toBe(V.signature);
  });
  it('computes msg_signature over the ciphertext', () => {
    expect(wechatSignature([V.token, V.timestamp, V.nonce, V.encrypt])).toBe(V.msgSignature);
  });
  it('matches only the right signature, and rejects non-strings', () => {
    expect(signatureMatches(V.signature, [V.token, V.timestamp, V.nonce])).toBe(true);
    expect(signatureMatches(V.signature.toUpperCase(), [V.token, V.timestamp, V.nonce])).toBe(true);
    expect(signatureMatches(V.signature, [V.token, V.timestamp, '123456780'])).toBe(false);
    expect(signatureMatches([V.signature], [V.token, V.timestamp, V.nonce])).toBe(false);
    expect(signatureMatches(undefined, [V.token, V.timestamp, V.nonce])).toBe(false);
    expect(signatureMatches('abc', [V.token, V.timestamp, V.nonce])).toBe(false);
  });
});

describe('a plaintext signature is good for one body', () => {
  const signature = 'a'.repeat(40);

  it('takes the first body and the same body again, refuses another, and keeps a short digest', async () => {
    const memory = new MemoryStore().deployment;
    await expect(signatureOnlyFor(memory, signature, '<xml>one</xml>', 300)).resolves.toBe(true);
    await expect(signatureOnlyFor(memory, signature, '<xml>one</xml>', 300)).resolves.toBe(true);
    await expect(signatureOnlyFor(memory, signature, '<xml>two</xml>', 300)).resolves.toBe(false);
    await expect(memory.getValue(`signature:${signature}`)).resolves.toHaveLength(44);
  });

  it('reads what an earlier version remembered (a hex digest) while a deployment rolls over', async () => {
    const memory = new MemoryStore().deployment;
    await memory.setValueIfAbsent(`signature:${signature}`, createHash('sha256').update('<xml>one</xml>').digest('hex'), 300_000);
    await expect(signatureOnlyFor(memory, signature, '<xml>one</xml>', 300)).resolves.toBe(true);
    await expect(signatureOnlyFor(memory, signature, '<xml>two</xml>', 300)).resolves.toBe(false);
  });
});

describe('WechatCipher (fixed vector)', () => {
  const cipher = new WechatCipher(V.aesKey, V.appid);

  it('encrypts byte-for-byte like wechatpy with the random prefix pinned', () => {
    expect(cipher.encrypt(V.msg, Buffer.from(V.random16))).toBe(V.encrypt);
  });

  it('decrypts the vector', () => {
    expect(cipher.decrypt(V.encrypt)).toBe(V.msg);
  });

  it('agrees with an independent decryption (plain node:crypto, 32-byte PKCS#7 pad of 16)', () => {
    const d = createDecipheriv('aes-256-cbc', Buffer.from(V.keyHex, 'hex'), Buffer.from(V.keyHex.slice(0, 32), 'hex'));
    d.setAutoPadding(false);
    const plain = Buffer.concat([d.update(Buffer.from(V.encrypt, 'base64')), d.final()]);
    expect(plain.length).toBe(288);
    expect(plain[plain.length - 1]).toBe(16);
    const len = plain.readUInt32BE(16);
    expect(plain.subarray(20, 20 + len).toString()).toBe(V.msg);
    expect(plain.subarray(20 + len, plain.length - 16).toString()).toBe(V.appid);
  });

  it('rejects a message encrypted for another appid', () => {
    const foreign = new WechatCipher(V.aesKey, 'wxOTHERAPPID00000').encrypt(V.msg);
    expect(() => cipher.decrypt(foreign)).toThrow(expect.objectContaining({ code: 'foreign_appid' }));
  });

  it('rejects garbage, truncated and tampered ciphertext', () => {
    expect(() => cipher.decrypt('')).toThrow(CipherError);
    expect(() => cipher.decrypt('aGVsbG8=')).toThrow(CipherError);
    const tampered = Buffer.from(V.encrypt, 'base64');
    tampered[tampered.length - 1] ^= 0xff;
    expect(() => cipher.decrypt(tampered.toString('base64'))).toThrow(CipherError);
  });

  it('pads a full 32-byte block when the plaintext is already aligned, and round-trips CJK', () => {
    for (let n = 0; n < 70; n++) {
      const xml = `<xml><Content><![CDATA[${'通知'.repeat(n)}]]></Content></xml>`;
      expect(cipher.decrypt(cipher.encrypt(xml))).toBe(xml);
    }
  });

  it('opens message after message with one cipher (it keeps no state between them), a refused one in between', () => {
    const tampered = Buffer.from(V.encrypt, 'base64');
    tampered[tampered.length - 1] ^= 0xff;
    const other = cipher.encrypt('<xml><A>1</A></xml>');
    expect(cipher.decrypt(V.encrypt)).toBe(V.msg);
    expect(() => cipher.decrypt(tampered.toString('base64'))).toThrow(CipherError);
    expect(cipher.decrypt(other)).toBe('<xml><A>1</A></xml>');
    expect(cipher.decrypt(V.encrypt)).toBe(V.msg);
  });

  it('refuses a key that is not 43 alphanumerics', () => {
    expect(() => new WechatCipher('short', V.appid)).toThrow(/43 characters/);
  });
});

describe('encrypted reply envelope', () => {
  it('is signed over its own ciphertext and opens again', async () => {
    const cipher = new WechatCipher(V.aesKey, V.appid);
    const sealed = await parseXml(sealReply(cipher, V.token, '<xml><Content>ok</Content></xml>', V.timestamp, V.nonce));
    expect(Object.keys(sealed)).toEqual(['Encrypt', 'MsgSignature', 'TimeStamp', 'Nonce']);
    expect(sealed.TimeStamp).toBe(V.timestamp);
    expect(openSealed(cipher, V.token, sealed.Encrypt, sealed.TimeStamp, sealed.Nonce, sealed.MsgSignature)).toBe(
      '<xml><Content>ok</Content></xml>',
    );
    expect(() => openSealed(cipher, V.token, sealed.Encrypt, sealed.TimeStamp, '1', sealed.MsgSignature)).toThrow(/msg_signature/);
  });
});
