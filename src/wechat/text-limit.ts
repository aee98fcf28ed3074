/**
 * The longest customer-service or passive-reply text WeChat takes, in bytes of UTF-8. Not
 * documented; observed in practice (WeChat answers 45002 above it). See
 * docs/wechat-protocol-notes.md "Text length".
 */
export const TEXT_LIMIT_BYTES = 2048;
