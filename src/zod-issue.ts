import type { z } from 'zod';

/**
 * What a person must fix, as a zod issue says it. zod reports a record's key that its key schema
 * refuses as "Invalid key in record" and keeps the reason (`field names: letters, digits and _`)
 * inside: that reason is the message.
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' && issue.issues.length > 0 ? issueMessage(issue.issues[0]) : issue.message;
}
