import type { Logger } from '../../log/logger';
import { AUTHORIZER_LIST_PAGE, type AuthorizerListEntry, type ComponentApi } from './component-api';
import type { Authorizer, Authorizers } from './authorizers';

/** What a recovery did, by appid. */
export interface RecoverySummary {
  /** Stored anew (the directory had lost them) or with the refresh token WeChat holds. */
  restored: string[];
  /** How many already held WeChat's refresh token. */
  unchanged: number;
  /** Authorised, but WeChat holds no refresh token: the merchant must authorise again. */
  needsAuthorisation: string[];
  /** Authorised here but absent from WeChat's list: they revoked while no push reached us. */
  revoked: string[];
}

export interface RecoveryOptions {
  api: ComponentApi;
  authorizers: Authorizers;
  /** An account came back (or first appeared) in the directory. */
  onRestored: (appid: string) => Promise<void>;
  /** An account turned out to have revoked. */
  onRevoked: (appid: string) => Promise<void>;
  log: Logger;
  now: () => number;
}

/**
 * Restores authorisers from api_get_authorizer_list, the official way back when refresh tokens
 * were lost: it lists every current authoriser with its refresh token. Revoked accounts are absent
 * from it, so they are never restored.
 */
export class Recovery {
  constructor(private readonly o: RecoveryOptions) {}

  /** Pages through the whole list and restores every authoriser whose record is missing or differs. */
  async recoverAll(): Promise<RecoverySummary> {
    const startedAt = this.o.now();
    const before = new Map((await this.o.authorizers.list()).map((a) => [a.appid, a]));
    const summary: RecoverySummary = { restored: [], unchanged: 0, needsAuthorisation: [], revoked: [] };
    const { entries, complete } = await this.listAll();
    for (const entry of entries) {
      const stored = await this.o.authorizers.restore(entry);
      const now = stored ?? (await this.o.authorizers.get(entry.appid));
      if (now?.refreshToken === '') summary.needsAuthorisation.push(entry.appid);
      else if (stored) summary.restored.push(entry.appid);
      else summary.unchanged++;
      if (stored && before.get(entry.appid)?.state !== 'authorized') await this.o.onRestored(entry.appid);
    }
    // Only a list read to its end (as many entries as WeChat counted) proves an account absent.
    if (complete) {
      const listed = new Set(entries.map((e) => e.appid));
      for (const a of before.values()) {
        if (a.state === 'authorized' && !listed.has(a.appid) && a.updatedAt < startedAt) {
          await this.o.onRevoked(a.appid);
          summary.revoked.push(a.appid);
        }
      }
    }
    this.o.log.info('authorisers recovered from WeChat', {
      restored: summary.restored.length,
      unchanged: summary.unchanged,
      needsAuthorisation: summary.needsAuthorisation,
      revoked: summary.revoked,
    });
    return summary;
  }

  /**
   * Restores one account from the list (its refresh token was refused); null when it is not
   * listed, which means it revoked (reported through onRevoked).
   */
  async recoverOne(appid: string): Promise<Authorizer | null> {
    const { entries, complete } = await this.listAll();
    const entry = entries.find((e) => e.appid === appid);
    if (!entry) {
      if (complete) await this.o.onRevoked(appid);
      return null;
    }
    await this.o.authorizers.restore(entry);
    this.o.log.warn('authoriser refresh token restored from WeChat', { appid });
    return this.o.authorizers.get(appid);
  }

  private async listAll(): Promise<{ entries: AuthorizerListEntry[]; complete: boolean }> {
    const entries: AuthorizerListEntry[] = [];
    let total = Number.POSITIVE_INFINITY; // known after the first page
    for (let offset = 0; offset < total; offset += AUTHORIZER_LIST_PAGE) {
      const page = await this.o.api.authorizerList(offset, AUTHORIZER_LIST_PAGE);
      total = page.total;
      entries.push(...page.list);
      if (page.list.length === 0) break;
    }
    return { entries, complete: entries.length === total };
  }
}
