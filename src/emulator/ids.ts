import { randomBytes } from 'node:crypto';

/** Real template msgids are 64-bit and above 2^53; start near a realistic one and count up. */
const FIRST_TEMPLATE_MSGID = 3147483654123456789n;
/** User message MsgIds are 64-bit too (they must stay below 2^64). */
const FIRST_USER_MSGID = 24012345678901234n * 100n;

export class IdSource {
  private templateMsgId = FIRST_TEMPLATE_MSGID;
  private userMsgId = FIRST_USER_MSGID;
  private ridCounter = 0;
  private readonly ridPrefix = randomBytes(4).toString('hex');

  /** A decimal string: msgids never pass through a JS number. */
  nextTemplateMsgId(): string {
    this.templateMsgId += 1n;
    return this.templateMsgId.toString();
  }

  nextUserMsgId(): string {
    this.userMsgId += 1n;
    return this.userMsgId.toString();
  }

  /** WeChat appends "rid: …" to every errmsg; cheap and unique per emulator. */
  rid(): string {
    this.ridCounter = (this.ridCounter + 1) >>> 0;
    return `${this.ridPrefix}-${this.ridCounter.toString(16).padStart(8, '0')}`;
  }

  accessToken(): string {
    // Real tokens are long opaque strings; 96 url-safe chars keep clients honest about storage.
    return randomBytes(72).toString('base64url');
  }

  nonce(): string {
    return String(randomBytes(4).readUInt32BE(0));
  }

  templateId(): string {
    return randomBytes(32).toString('base64url').slice(0, 43);
  }
}
