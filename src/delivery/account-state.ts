/** `active`: may send; `unauthorized`: the merchant revoked the platform; `unknown`: not configured nor authorised. */
export type AccountState = 'active' | 'unauthorized' | 'unknown';
