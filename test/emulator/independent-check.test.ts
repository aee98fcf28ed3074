import { AES_KEY, COMPONENT, TOKEN, independentDecrypt, sha1Sorted, xmlFields } from './helpers';

// The receipt tests trust these helpers, so anchor them on the fixed vector of
// docs/wechat-protocol-notes.md "The AES envelope" (reproduced byte-for-byte by wechatpy).
const V = {
  appid: 'wx0123456789abcdef',
  timestamp: '1700000000',
  nonce: '123456789',
  encrypt:
    'Q3stYC6hdFzMh9T8HCvyDLBdxlyHiALZmW3U7s1kRVp9siBd3s8wZEu96L42GZClNxXyAP2ITSuHzVwRL18V6A6h4X6wOYby0x3XQFuT2jCXawtPTUaKWq/uJXXwn1Gr8yWjBCvyDOsTCKUGVacEh9un3xcYsMy1Cic/Zr7YdvV/uSHTl7EdbOC3w9BhYXMfSN4mDSJUZy/14XWo3wPDZG9CaJ71GzTBLHmzAcXzD/Blsie46Let5qTY0MmphoUPjhGYln+rA7/aRhtkBWZl2kDfjrlGxx5Zpni+xF2kqXfW+d8Ts5SeK8B36nZTf05qSm/P7VsGhxduRAbDoJgcHafrhdSF5kwH1EtIuvl/0kdIIfksZSj2z+MN0wDUmgU3',
  msgSignature: '2af868dc50f8796f01cf07b659af12751d07c51a',
  signature: '1224ee560df62329b43aeee20636a0defb583ee4',
};

describe('the independent check used on emulator pushes (the fixed vector)', () => {
  it('computes both signatures of the vector', () => {
    expect(sha1Sorted([TOKEN, V.timestamp, V.nonce])).toBe(V.signature);
    expect(sha1Sorted([TOKEN, V.timestamp, V.nonce, V.encrypt])).toBe(V.msgSignature);
  });

  it('decrypts the vector and reads its fields', () => {
    const xml = independentDecrypt(AES_KEY, V.encrypt, V.appid);
    expect(xmlFields(xml)).toEqual({ ToUserName: 'gh_abc', FromUserName: 'oUSER', CreateTime: '1700000000', MsgType: 'text', Content: 'hi', MsgId: '1234567890123456' });
    expect(() => independentDecrypt(AES_KEY, V.encrypt, 'wxOTHER')).toThrow('appid');
  });
});

// WeChat's own third-party platform vector: the component tests trust the same helpers with the component's keys.
const C = {
  timestamp: '1715943329',
  nonce: '1590219412',
  encrypt:
    'D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhHTtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4KN5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFDMVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==',
  signature: 'cc0c594499c1634947d5b502f158ee518947db27',
  msgSignature: '6c12a4205838198b8fa631b3220723bb07f1015c',
};

describe('the independent check used on component pushes (the official third-party vector)', () => {
  it('computes both signatures and decrypts with the component appid trailer', () => {
    expect(sha1Sorted([COMPONENT.token, C.timestamp, C.nonce])).toBe(C.signature);
    expect(sha1Sorted([COMPONENT.token, C.timestamp, C.nonce, C.encrypt])).toBe(C.msgSignature);
    const xml = independentDecrypt(COMPONENT.aesKey, C.encrypt, COMPONENT.appId);
    expect(xmlFields(xml)).toEqual({ ToUserName: 'gh_97417a04a28d', FromUserName: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY', CreateTime: '1715943329', MsgType: 'event', Event: 'debug_demo', debug_str: 'hello world' });
  });
});
