/**
 * The staged world of the chaos test: users, templates and how each one behaves at the emulator,
 * and which notification goes to whom. Pure data, so the test and any runner share it.
 */

/**
 * The wxreach settings of a chaos run (beside its accounts): short timeouts and a fast work loop,
 * so the outcomes all happen within the run.
 */
export const CHAOS_SETTINGS = {
  /**
   * Short, so the run sees "no receipt" fallbacks, but longer than a receipt can be held up by a
   * killed instance (its 3 s push claim lapses, WeChat re-sends): the default is 600 s.
   */
  receipt: { timeoutSeconds: 8, onTimeout: 'fallback' },
  retry: { maxAttempts: 5, baseDelayMs: 100 },
  worker: { pollMs: 20, leaseMs: 3000, batchSize: 64, concurrency: 32 },
  window: { parkSeconds: 600 },
  wechat: { timeoutMs: 3000 },
} as const;

/** Every template shows the same two fields; the fallback sentence makes each notice's text unique. */
export const TEMPLATE_CONTENT = 'Seq: {{seq.DATA}}\nBody: {{body.DATA}}';
export const FALLBACK_PATTERN = 'Notice {{seq}}: {{body}}';
/** Reads the sequence number back out of a customer-service or passive-reply text. */
export const FALLBACK_TEXT = /^Notice (S\d{6}): /;

/** What the emulator does with each logical template (receipt outcomes are set per user). */
export const CHAOS_TEMPLATES = {
  /** Receipt `success` → delivered. */
  t_ok: { id: 'TPL_CHAOS_OK_000000001', title: 'Chaos ok' },
  /** Reaches the user but no receipt ever comes → receipt timeout → fallback (both channels). */
  t_none: { id: 'TPL_CHAOS_NONE_00000001', title: 'Chaos no receipt' },
  /** Receipt `failed:user block` → fallback. */
  t_block: { id: 'TPL_CHAOS_BLOCK_0000001', title: 'Chaos blocked' },
  /** Receipt `failed: system failed` → fallback. */
  t_sysfail: { id: 'TPL_CHAOS_SYSFAIL_00001', title: 'Chaos system failed' },
  /** The success receipt three times → delivered once. */
  t_repeat: { id: 'TPL_CHAOS_REPEAT_000001', title: 'Chaos repeated receipt' },
  /** Deleted part-way through → 40037 → template invalid → fallback. */
  t_del: { id: 'TPL_CHAOS_DELETED_00001', title: 'Chaos deleted' },
  /** Refused (43101) by odd-numbered users → fallback; delivered to the others. */
  t_ref: { id: 'TPL_CHAOS_REFUSED_00001', title: 'Chaos refused' },
} as const;

export type TemplateName = keyof typeof CHAOS_TEMPLATES;
export type ChaosTemplates = Record<TemplateName, { id: string; title: string }>;

/**
 * The chaos templates as one more account has them: the same titles, ids of its own (`tag`
 * appended), as two Official Accounts never share a template id.
 */
export const taggedTemplates = (tag: string): ChaosTemplates =>
  Object.fromEntries(Object.entries(CHAOS_TEMPLATES).map(([name, t]) => [name, { id: `${t.id}_${tag}`, title: t.title }])) as ChaosTemplates;

/** Config `templates` of an account: every chaos template by its name, with the fallback sentence. */
export const configTemplates = (templates: ChaosTemplates) =>
  Object.fromEntries(Object.entries(templates).map(([name, t]) => [name, { id: t.id, fallback: FALLBACK_PATTERN }]));

/** The emulator's template list of an account. */
export const seedTemplates = (templates: ChaosTemplates) => Object.values(templates).map((t) => ({ template_id: t.id, title: t.title, content: TEMPLATE_CONTENT }));

/** By sequence number mod 10: 40 % plain success, 10 % each of the others. */
const MIX: TemplateName[] = ['t_ok', 't_ok', 't_ok', 't_ok', 't_none', 't_block', 't_sysfail', 't_repeat', 't_del', 't_ref'];

export const templateFor = (seq: number): TemplateName => MIX[seq % MIX.length];

export const openidOf = (u: number) => `oCHAOS_user_${String(u).padStart(4, '0')}`;
/** A user is an openid in one account: the same openid in two accounts is two people. */
export const recipientKey = (account: string, openid: string) => `${account}/${openid}`;
export const seqLabel = (seq: number) => `S${String(seq).padStart(6, '0')}`;

/**
 * How each user's customer-service window starts: 0 sent a text (5 messages / 48 h), 1 followed
 * (3 messages / 1 min), 2 and 3 never talked to the account (45015, notices are parked until they
 * come back).
 */
export const windowGroup = (u: number): 0 | 1 | 2 | 3 => (u % 4) as 0 | 1 | 2 | 3;
