import type { Config } from '../../src/config/schema';
import type { StackComponent, StackMoreAccount } from '../../src/stack';
import { TEMPLATES, USER } from './harness';

/**
 * Accounts for tests of many accounts beside the harness's own (APP): another own account, one
 * whose AppSecret wxreach is given wrong, and a third-party platform with its merchants. The same
 * openid (USER) follows every one.
 */

/** A second own account; its daily template quota is one send. */
export const SECOND: StackMoreAccount = {
  account: { appId: 'wx2b2b2b2b2b2b2b2b', appSecret: 'second-account-secret', token: 'secondtoken' },
  templates: { order_paid: { ...TEMPLATES.order_paid, id: 'TPL_SECOND_ORDER_PAID_001' } },
  users: [USER],
  dailyTemplateQuota: 1,
};

/** An own account whose AppSecret in wxreach's config is wrong (see `refusingSecret`): WeChat refuses its token. */
export const REFUSED: StackMoreAccount = {
  account: { appId: 'wx3c3c3c3c3c3c3c3c', appSecret: 'refused-account-secret', token: 'refusedtoken' },
  templates: { order_paid: { ...TEMPLATES.order_paid, id: 'TPL_REFUSED_ORDER_PAID_01' } },
  users: [USER],
};

/** wxreach's config with a wrong AppSecret for REFUSED. */
export const refusingSecret = (c: Config): Config => ({
  ...c,
  accounts: { ...c.accounts, [REFUSED.account.appId]: { ...c.accounts[REFUSED.account.appId], appSecret: 'not-the-secret' } },
});

export const COMPONENT = { appId: 'wxc0c0c0c0c0c0c0c0', appSecret: 'component-secret-0001', token: 'componenttoken', aesKey: 'Zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUT' };

/** A merchant that can authorise the platform; it has the template under its own id, which wxreach finds by its title. */
export const merchant = (appId: string, i: number): StackMoreAccount => ({
  account: { appId, appSecret: `merchant-secret-${i}`, token: `merchant${i}` },
  templates: { order_paid: { ...TEMPLATES.order_paid, id: `TPL_MERCHANT_${i}_ORDER_PAID` } },
  users: [USER],
});

/** The platform with these merchants, and `order_paid` as every account's template (found by title). */
export const platformWith = (merchants: StackMoreAccount[]): StackComponent => ({
  keys: COMPONENT,
  merchants,
  templateDefaults: { order_paid: { title: TEMPLATES.order_paid.title, fallback: TEMPLATES.order_paid.fallback } },
});
