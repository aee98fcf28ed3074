// The funnel of one template from its counters: what the template send came to, and where the
// notices went after it. Pure functions, so the page and its rules read the same.
import { rate, sumPrefix } from './format.js';

/** The funnel's steps: [label key, counter of it, the counter it is a share of]. */
export const STEPS = [
  ['template.sent', (c) => c['template.sent'] ?? 0, (c) => c.accepted ?? 0],
  ['receipt.success', (c) => c['receipt.success'] ?? 0, (c) => c['template.sent'] ?? 0],
  ['receipt.user_block', (c) => c['receipt.user_block'] ?? 0, (c) => c['template.sent'] ?? 0],
  ['receipt.system_failed', (c) => c['receipt.system_failed'] ?? 0, (c) => c['template.sent'] ?? 0],
  ['receipt.none', (c) => c['receipt.none'] ?? 0, (c) => c['template.sent'] ?? 0],
  ['template.refused', (c) => c['template.refused'] ?? 0, (c) => c.accepted ?? 0],
  ['fallback_sent.customer_service', (c) => c['fallback_sent.customer_service'] ?? 0, (c) => c.accepted ?? 0],
  ['fallback_sent.passive_reply', (c) => c['fallback_sent.passive_reply'] ?? 0, (c) => c.accepted ?? 0],
  ['parked', (c) => c.parked ?? 0, (c) => c.accepted ?? 0],
  ['failed', (c) => sumPrefix(c, 'failed.'), (c) => c.accepted ?? 0],
];

/** The rates that matter when they jump: the ways a template send or a notice goes wrong. */
export const WATCHED = new Set(['receipt.user_block', 'receipt.system_failed', 'receipt.none', 'template.refused', 'failed']);

/**
 * A rate jumped when it is at least double the previous equal period's (a rise from nothing
 * counts, as long as the previous period had a base to measure against).
 */
export const jumped = (now, before) => now !== null && before !== null && now > 0 && now >= 2 * before;

/** Each step of a template: its count, its rate, the previous period's rate, and whether it jumped. */
export function funnelOf(counts, previousCounts) {
  return STEPS.map(([step, count, base]) => {
    const now = rate(count(counts), base(counts));
    const before = previousCounts ? rate(count(previousCounts), base(previousCounts)) : null;
    return { step, count: count(counts), rate: now, before, jumped: WATCHED.has(step) && jumped(now, before) };
  });
}
