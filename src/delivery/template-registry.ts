import type { TemplateConfig } from '../config/schema';
import type { Logger } from '../log/logger';
import type { AccountStore } from '../store/store';
import type { PrivateTemplate } from '../wechat/api-client';

export interface TemplateApi {
  listTemplates(): Promise<PrivateTemplate[]>;
  addTemplate(shortId: string): Promise<string>;
}

export interface ResolvedTemplate {
  /**
   * Absent for a configured name whose id this account does not have yet (a default template not
   * found by title in the account's list nor added by short id so far): no template can be sent.
   */
  templateId?: string;
  /** Set when the notification used a logical name from the config. */
  config?: TemplateConfig;
}

export interface TemplateState {
  valid: boolean;
  /** ISO time of the last change of validity. */
  since?: string;
  reason?: string;
  title?: string;
  content?: string;
}

/** A template became unusable, or usable again (for the status webhooks). */
export interface ValidityChange {
  templateId: string;
  valid: boolean;
  reason?: string;
  /** ISO time of the change. */
  since: string;
}

/** A validity change or a self-healing of a configured template, for GET /v1/templates. */
export interface TemplateEvent {
  /** ISO time. */
  at: string;
  valid: boolean;
  reason?: string;
  /** The template id the name switched to (re-added from the library, or found by title). */
  healedTo?: string;
}

/** A configured template as GET /v1/accounts and /v1/templates show it. */
export interface TemplateHealth {
  name: string;
  templateId: string | null;
  valid: boolean;
  since: string | null;
  reason: string | null;
  title: string | null;
}

/** Events kept per template name, newest first. */
const MAX_EVENTS = 20;

const key = {
  state: (id: string) => `tpl:${id}`,
  events: (name: string) => `tpl-events:${name}`,
  alias: (name: string) => `tpl-alias:${name}`,
  healed: (id: string) => `tpl-healed:${id}`,
  listed: 'tpl-list-synced-at',
  /** Set while a template is invalid, so many senders seeing 40037 at once mark (and log) it once. */
  invalid: (id: string) => `tpl-invalid:${id}`,
};

/** What this instance knows of templates is re-read from the store at most this often. */
const CACHE_MS = 1000;

const DAY_MS = 86_400_000;

/**
 * The counts GET /v1/templates shows, from the statistics' counters that each status change writes
 * (lifecycle MOVES): the count's name → the counters it adds up.
 */
const COUNTS: Readonly<Record<string, readonly string[]>> = {
  sent: ['template.sent'],
  receipt_success: ['receipt.success'],
  receipt_user_block: ['receipt.user_block'],
  receipt_system_failed: ['receipt.system_failed'],
  receipt_other_failed: ['receipt.other_failed'],
  fallback_sent: ['fallback_sent.customer_service', 'fallback_sent.passive_reply'],
};

/**
 * What wxreach knows of the account's templates, shared through the store: which are usable,
 * their last known content (kept after deletion, for the default fallback sentence), and ids
 * re-added by self-healing; with their counts from the statistics.
 */
export class TemplateRegistry {
  private readonly cache = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly store: AccountStore,
    private readonly api: TemplateApi,
    private readonly templates: Readonly<Record<string, TemplateConfig>>,
    /** How long the statistics' counters are kept: the counts cover this much. */
    private readonly statsKeepSeconds: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly onValidity: (change: ValidityChange) => Promise<void> = async () => {},
  ) {}

  /**
   * Every send reads the same few keys: serve them from memory for up to CACHE_MS (changes made
   * here clear it). The read in flight is what is kept, so the sends that find it stale together
   * share one read; a failed read is not kept.
   */
  private cached<T>(name: string, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(name);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value as Promise<T>;
    const value = load();
    if (this.cache.size >= 1000) this.cache.clear(); // raw template ids come from clients: keep it bounded
    const entry = { at: Date.now(), value };
    this.cache.set(name, entry);
    value.catch(() => {
      if (this.cache.get(name) === entry) this.cache.delete(name);
    });
    return value;
  }

  /**
   * A logical name (the id found by title, added or re-added by self-healing, else the configured
   * one) or a raw id; null when unknown.
   */
  async resolve(template: string): Promise<ResolvedTemplate | null> {
    // Own names only: `constructor` or `__proto__` must not find Object.prototype's members.
    const config = Object.hasOwn(this.templates, template) ? this.templates[template] : undefined;
    if (config) {
      const found = await this.cached(key.alias(template), () => this.store.getValue(key.alias(template)));
      const templateId = found ?? config.id;
      return templateId === undefined ? { config } : { templateId, config };
    }
    const state = await this.state(template);
    if (state.content !== undefined) return { templateId: template };
    // Never synced (WeChat unreachable so far): accept what looks like a template id rather than refuse work.
    const synced = await this.cached(key.listed, () => this.store.getValue(key.listed));
    return synced === null && /^[A-Za-z0-9_-]{10,64}$/.test(template) ? { templateId: template } : null;
  }

  async state(templateId: string): Promise<TemplateState> {
    const h = await this.cached(key.state(templateId), () => this.store.getHash(key.state(templateId)));
    return { valid: h.valid !== '0', since: h.since, reason: h.reason, title: h.title, content: h.content };
  }

  async markInvalid(templateId: string, reason: string): Promise<void> {
    if (await this.store.firstSeen(key.invalid(templateId), 365 * 86_400)) {
      const since = new Date(this.now()).toISOString();
      await this.store.setHash(key.state(templateId), { valid: '0', since, reason });
      this.log.warn('template marked invalid', { templateId, reason });
      await this.recordForId(templateId, { at: since, valid: false, reason });
      await this.onValidity({ templateId, valid: false, reason, since });
    }
    this.cache.clear();
  }

  private async markValid(t: PrivateTemplate): Promise<void> {
    this.cache.clear();
    const h = await this.store.getHash(key.state(t.template_id));
    const fields: Record<string, string> = { title: t.title, content: t.content, valid: '1', reason: '' };
    if (h.valid !== '1') {
      fields.since = new Date(this.now()).toISOString();
      if (h.valid === '0') this.log.info('template valid again', { templateId: t.template_id });
    }
    await this.store.setHash(key.state(t.template_id), fields);
    await this.store.forget(key.invalid(t.template_id));
    if (h.valid === '0') {
      await this.recordForId(t.template_id, { at: fields.since, valid: true });
      await this.onValidity({ templateId: t.template_id, valid: true, since: fields.since });
    }
  }

  /**
   * Keeps `event` for each configured name that currently means `templateId` (a raw id that no
   * name means is not listed by GET /v1/templates). Events are rare (a change of validity, a
   * healing: each once across instances), so a read and a write of a short list suffices.
   */
  private async recordForId(templateId: string, event: TemplateEvent): Promise<void> {
    for (const name of Object.keys(this.templates)) {
      if ((await this.resolve(name))?.templateId === templateId) await this.record(name, event);
    }
  }

  private async record(name: string, event: TemplateEvent): Promise<void> {
    const events = await this.events(name);
    await this.store.setValue(key.events(name), JSON.stringify([event, ...events].slice(0, MAX_EVENTS)));
  }

  /** The latest validity changes and healings of a configured name, newest first. */
  async events(name: string): Promise<TemplateEvent[]> {
    const raw = await this.store.getValue(key.events(name));
    return raw === null ? [] : (JSON.parse(raw) as TemplateEvent[]);
  }

  /**
   * Compares the account's template list with what we know. A configured name without a listed id
   * takes the listed template with its title (the list carries no short id), else is added (or
   * re-added, when its id vanished) from the library by its short id.
   */
  async sync(): Promise<void> {
    const list = await this.api.listTemplates();
    const listed = new Set(list.map((t) => t.template_id));
    for (const t of list) await this.markValid(t);
    await this.store.setValue(key.listed, new Date(this.now()).toISOString());
    for (const [name, config] of Object.entries(this.templates)) {
      const { templateId } = (await this.resolve(name)) as ResolvedTemplate;
      if (templateId !== undefined && listed.has(templateId)) continue;
      if (templateId !== undefined) await this.markInvalid(templateId, 'missing from the template list');
      const byTitle = config.title === undefined ? undefined : list.find((t) => t.title === config.title);
      if (byTitle) {
        await this.store.setValue(key.alias(name), byTitle.template_id);
        this.cache.clear();
        this.log.info('template found in the account by its title', { template: name, templateId: byTitle.template_id });
        await this.record(name, { at: new Date(this.now()).toISOString(), valid: true, reason: 'found in the account by its title', healedTo: byTitle.template_id });
      } else if (config.shortId) {
        await this.heal(name, templateId, config.shortId);
      }
    }
  }

  /**
   * Adds the template once (per vanished id, or per name when it never had one; across instances)
   * and switches the name to the new id.
   */
  private async heal(name: string, oldId: string | undefined, shortId: string): Promise<void> {
    const once = key.healed(oldId ?? `name:${name}`);
    if (!(await this.store.firstSeen(once, 30 * 86_400))) return;
    try {
      const newId = await this.api.addTemplate(shortId);
      await this.store.setValue(key.alias(name), newId);
      this.cache.clear();
      this.log.warn(oldId ? 'template re-added from the library' : 'template added from the library', { template: name, oldTemplateId: oldId, newTemplateId: newId, shortId });
      const reason = `${oldId ? 're-added' : 'added'} from the library by its short id ${shortId}`;
      await this.record(name, { at: new Date(this.now()).toISOString(), valid: true, reason, healedTo: newId });
      const fresh = (await this.api.listTemplates()).find((t) => t.template_id === newId);
      if (fresh) await this.markValid(fresh);
    } catch (err) {
      this.log.error('template could not be added; trying again at the next sync', { template: name, shortId, err });
      await this.store.forget(once).catch(() => undefined);
    }
  }

  /** Every configured template with its current id and state (GET /v1/accounts). */
  async health(): Promise<TemplateHealth[]> {
    const out: TemplateHealth[] = [];
    for (const name of Object.keys(this.templates)) {
      const { templateId } = (await this.resolve(name)) as ResolvedTemplate;
      if (templateId === undefined) {
        const reason = 'not in this account yet (not found by title, not added by short id)';
        out.push({ name, templateId: null, valid: false, since: null, reason, title: this.templates[name].title ?? null });
        continue;
      }
      const s = await this.state(templateId);
      out.push({ name, templateId, valid: s.valid, since: s.since ?? null, reason: s.reason || null, title: s.title ?? null });
    }
    return out;
  }

  /**
   * For GET /v1/templates: every configured template with its state, counts and latest events.
   * The counts are the statistics' counters of the notices sent under the name, and under the
   * template id itself when a client gave that: over the days the statistics keep (one read of
   * the account's day buckets for all templates).
   */
  async overview(): Promise<Array<TemplateHealth & { counts: Record<string, number>; events: TemplateEvent[] }>> {
    const now = this.now();
    const from = Math.floor((now - this.statsKeepSeconds * 1000) / DAY_MS) * DAY_MS;
    const [templates, rows] = await Promise.all([this.health(), this.store.readCounters('day', from, now + 1)]);
    const bySubject = new Map<string, Map<string, number>>();
    for (const { subject, counter, n } of rows) {
      const counters = bySubject.get(subject) ?? new Map<string, number>();
      bySubject.set(subject, counters.set(counter, (counters.get(counter) ?? 0) + n));
    }
    return Promise.all(
      templates.map(async (t) => {
        const subjects = [t.name, ...(t.templateId !== null && t.templateId !== t.name ? [t.templateId] : [])];
        const counts: Record<string, number> = {};
        for (const [name, counters] of Object.entries(COUNTS)) {
          const n = subjects.reduce((sum, subject) => sum + counters.reduce((s, c) => s + (bySubject.get(subject)?.get(c) ?? 0), 0), 0);
          if (n > 0) counts[name] = n;
        }
        return { ...t, counts, events: await this.events(t.name) };
      }),
    );
  }
}
