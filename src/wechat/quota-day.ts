/** China is UTC+8 all year (no daylight saving). */
const CHINA_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/**
 * WeChat's daily quotas (template sends, customer-service sends, token fetches) count per day in
 * China and reset at midnight there. See docs/wechat-protocol-notes.md "Daily quotas".
 */
export function chinaDay(now: number): number {
  return Math.floor((now + CHINA_OFFSET_MS) / DAY_MS);
}

/** The next midnight in China, when the daily quotas reset (epoch ms). */
export function nextChinaMidnight(now: number): number {
  return (chinaDay(now) + 1) * DAY_MS - CHINA_OFFSET_MS;
}
