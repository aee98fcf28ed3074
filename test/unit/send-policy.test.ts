import { backoffMs, decideCustomFailure, decideTemplateFailure } from '../../src/delivery/send-policy';
import { WechatApiError, WechatTransportError } from '../../src/wechat/api-errors';

const api = (code: number, path = '/cgi-bin/message/template/send') => new WechatApiError(code, `errmsg ${code} rid: 1`, path);

describe('template send policy (one row each)', () => {
  it.each([
    [-1, 'retry'],
    [45011, 'retry'],
    [40001, 'retry'],
    [40014, 'retry'],
    [42001, 'retry'],
    [40037, 'fallback'],
    [40036, 'fallback'],
    [48001, 'fallback'],
    [48004, 'fallback'],
    [43101, 'fallback'],
    [47003, 'fallback'],
    [45009, 'fallback'],
    [43004, 'fail'],
    [40003, 'fail'],
    [43019, 'fail'],
    [99999, 'fallback'],
  ])('errcode %i → %s', (code, action) => {
    expect(decideTemplateFailure(api(code)).action).toBe(action);
  });

  it('marks the template invalid for 40037/48001/48004 and pauses on 45009', () => {
    expect(decideTemplateFailure(api(40037))).toMatchObject({ template: 'invalid' });
    expect(decideTemplateFailure(api(48004))).toMatchObject({ template: 'invalid' });
    expect(decideTemplateFailure(api(45009))).toMatchObject({ template: 'quota_exhausted' });
    expect(decideTemplateFailure(api(43101))).not.toHaveProperty('template');
  });

  it('names the recipient problem and the bad field', () => {
    expect(decideTemplateFailure(api(43004))).toEqual({ action: 'fail', reason: 'not_a_follower' });
    expect(decideTemplateFailure(api(40003))).toEqual({ action: 'fail', reason: 'invalid_openid' });
    expect(decideTemplateFailure(api(43019))).toEqual({ action: 'fail', reason: 'blacklisted' });
    const bad = new WechatApiError(47003, 'argument invalid! data.thing5.value is empty rid: 65', '/x');
    expect(decideTemplateFailure(bad)).toEqual({ action: 'fallback', reason: 'bad_data: argument invalid! data.thing5.value is empty' });
  });

  it('waits for WeChat, without using up attempts, on network errors, timeouts and 5xx (same client_msg_id makes the repeat safe)', () => {
    expect(decideTemplateFailure(new WechatTransportError('/p', 'maybe', 'timeout'))).toEqual({ action: 'wait', reason: 'wechat_unreachable: timeout' });
    expect(decideTemplateFailure(new WechatTransportError('/p', 'no', 'ECONNREFUSED')).action).toBe('wait');
    expect(decideTemplateFailure(new WechatTransportError('/p', 'no', 'HTTP 502')).action).toBe('wait');
    expect(decideTemplateFailure(new WechatTransportError('/cgi-bin/stable_token', 'maybe', 'timeout')).action).toBe('wait');
  });

  it('waits, without using up attempts, when the token endpoint refuses (a person must fix it)', () => {
    expect(decideTemplateFailure(api(40164, '/cgi-bin/stable_token')).action).toBe('wait');
    expect(decideCustomFailure(api(40125, '/cgi-bin/token')).action).toBe('wait');
  });
});

describe('customer-service send policy', () => {
  it.each([
    [45015, 'park'],
    [45047, 'park'],
    [-1, 'retry'],
    [45011, 'retry'],
    [45009, 'park'],
    [43004, 'fail'],
    [40003, 'fail'],
    [48002, 'fail'],
    [44004, 'fail'],
    [45002, 'fail'],
  ])('errcode %i → %s', (code, action) => {
    expect(decideCustomFailure(api(code, '/cgi-bin/message/custom/send')).action).toBe(action);
  });

  it('waits when only the token could not be had: the message never left', () => {
    expect(decideCustomFailure(new WechatTransportError('/cgi-bin/stable_token', 'maybe', 'timeout')).action).toBe('wait');
    expect(decideCustomFailure(api(40164, '/cgi-bin/token')).action).toBe('wait');
    expect(decideCustomFailure(new Error('redis: connection lost')).action).toBe('retry');
    expect(decideCustomFailure(api(45015, '/cgi-bin/message/custom/send'))).toMatchObject({ windowClosed: true });
    expect(decideCustomFailure(api(45009, '/cgi-bin/message/custom/send'))).toMatchObject({ windowClosed: false });
  });

  it('never repeats a call that may have reached WeChat', () => {
    expect(decideCustomFailure(new WechatTransportError('/p', 'maybe', 'timeout'))).toEqual({ action: 'unknown', reason: 'outcome_unknown' });
    expect(decideCustomFailure(new WechatTransportError('/p', 'no', 'ECONNREFUSED'))).toEqual({ action: 'wait', reason: 'wechat_unreachable: ECONNREFUSED' });
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter within [exp/2, exp] and is capped', () => {
    expect(backoffMs(1, 1000, () => 0)).toBe(500);
    expect(backoffMs(1, 1000, () => 1)).toBe(1000);
    expect(backoffMs(3, 1000, () => 1)).toBe(4000);
    expect(backoffMs(30, 1000, () => 1)).toBe(600_000);
  });
});
