import { createCipheriv, createDecipheriv, randomBytes, type Decipher } from 'node:crypto';

/** WeChat pads to a multiple of 32 bytes (not AES's 16), so Node's auto padding cannot be used. */
const PAD_BLOCK = 32;

export class CipherError extends Error {
  constructor(
    readonly code: 'bad_key' | 'bad_ciphertext' | 'bad_padding' | 'bad_length' | 'foreign_appid',
    message: string,
  ) {
    super(message);
    this.name = 'CipherError';
  }
}

/**
 * The message cipher of WeChat's compatible and safe modes (docs/wechat-protocol-notes.md
 * "The AES envelope"):
 * AES-256-CBC, key = base64(EncodingAESKey + '='), IV = first 16 key bytes,
 * plaintext = random(16) | uint32BE(len) | xml | appid, PKCS#7 padded to 32 bytes.
 */
export class WechatCipher {
  private readonly key: Buffer;
  private readonly iv: Buffer;
  /**
   * AES-256 of single blocks, kept for every message: `decrypt` chains the blocks itself (CBC), so
   * no decipher is created per message (that was most of its cost).
   */
  private readonly blocks: Decipher;

  constructor(
    encodingAesKey: string,
    private readonly appId: string,
  ) {
    if (!/^[A-Za-z0-9]{43}$/.test(encodingAesKey)) {
      throw new CipherError('bad_key', 'EncodingAESKey must be 43 characters from [A-Za-z0-9]');
    }
    this.key = Buffer.from(`${encodingAesKey}=`, 'base64');
    if (this.key.length !== 32) throw new CipherError('bad_key', 'EncodingAESKey does not decode to 32 bytes');
    this.iv = this.key.subarray(0, 16);
    this.blocks = createDecipheriv('aes-256-ecb', this.key, null).setAutoPadding(false);
  }

  encrypt(xml: string, random16: Buffer = randomBytes(16)): string {
    if (random16.length !== 16) throw new CipherError('bad_length', 'the random prefix must be 16 bytes');
    const msg = Buffer.from(xml, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length, 0);
    const plain = Buffer.concat([random16, len, msg, Buffer.from(this.appId, 'utf8')]);
    const padLen = PAD_BLOCK - (plain.length % PAD_BLOCK);
    const padded = Buffer.concat([plain, Buffer.alloc(padLen, padLen)]);
    const cipher = createCipheriv('aes-256-cbc', this.key, this.iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
  }

  /** Returns the XML inside; throws CipherError on any malformed input or an appid other than ours. */
  decrypt(encrypted: string): string {
    const raw = Buffer.from(encrypted, 'base64');
    if (raw.length === 0 || raw.length % 16 !== 0) {
      throw new CipherError('bad_ciphertext', 'ciphertext is not a whole number of AES blocks');
    }
    // CBC: each block decrypted, then XORed with the ciphertext block before it (the IV for the first).
    // Without padding, ECB's update gives every block at once and keeps no state between calls.
    const plain = this.blocks.update(raw);
    for (let i = plain.length - 1; i >= 16; i--) plain[i] ^= raw[i - 16];
    for (let i = 0; i < 16; i++) plain[i] ^= this.iv[i];
    const pad = plain[plain.length - 1];
    if (pad < 1 || pad > PAD_BLOCK || pad > plain.length) throw new CipherError('bad_padding', 'invalid padding');
    for (let i = plain.length - pad; i < plain.length; i++) {
      if (plain[i] !== pad) throw new CipherError('bad_padding', 'invalid padding');
    }
    const body = plain.subarray(0, plain.length - pad);
    if (body.length < 20) throw new CipherError('bad_length', 'plaintext too short');
    const msgLen = body.readUInt32BE(16);
    if (20 + msgLen > body.length) throw new CipherError('bad_length', 'message length exceeds plaintext');
    const appId = body.subarray(20 + msgLen).toString('utf8');
    if (appId !== this.appId) throw new CipherError('foreign_appid', 'message is encrypted for another appid');
    return body.subarray(20, 20 + msgLen).toString('utf8');
  }
}
