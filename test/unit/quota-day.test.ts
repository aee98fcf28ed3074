import { chinaDay, nextChinaMidnight } from '../../src/wechat/quota-day';

const at = (iso: string) => Date.parse(iso);

describe('the China day of WeChat daily quotas', () => {
  it('turns at midnight UTC+8, which is 16:00 UTC', () => {
    expect(chinaDay(at('2024-03-01T15:59:59.999Z'))).toBe(chinaDay(at('2024-02-29T16:00:00.000Z')));
    expect(chinaDay(at('2024-03-01T16:00:00.000Z'))).toBe(chinaDay(at('2024-03-01T15:59:59.999Z')) + 1);
  });

  it('the next reset is the coming midnight in China, never the current instant', () => {
    expect(new Date(nextChinaMidnight(at('2024-03-01T15:59:59.999Z'))).toISOString()).toBe('2024-03-01T16:00:00.000Z');
    expect(new Date(nextChinaMidnight(at('2024-03-01T16:00:00.000Z'))).toISOString()).toBe('2024-03-02T16:00:00.000Z');
    expect(new Date(nextChinaMidnight(at('2024-03-01T02:00:00.000Z'))).toISOString()).toBe('2024-03-01T16:00:00.000Z');
  });
});
