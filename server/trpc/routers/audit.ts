import { z } from 'zod';
import { listAuditRecords } from '../../../db/repositories/audit';
import { NS_PATTERN } from '../../../db/time';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

const NS_PER_DAY = 86_400_000_000_000n;
export const MAX_AUDIT_WINDOW_NS = 400n * NS_PER_DAY;
const ns = z.string().regex(NS_PATTERN, 'must be nanoseconds since the Unix epoch, as a decimal string');
const freeText = z.string().min(1, 'must not be empty (leave it out to match any)').max(200, 'at most 200 characters');

export const ZListAuditInputSchema = z
  .strictObject({
    from: ns,
    to: ns,
    /** Exact action ("auth.sign_in") or a prefix ending in "." ("auth."). */
    action: z.string().regex(/^[a-z_]{1,32}(\.[a-z_]{0,32})?$/, 'an action such as auth.sign_in, or a prefix such as auth.').optional(),
    outcome: z.enum(['success', 'failure', 'denied']).optional(),
    /** Literal, case-insensitive substring of the actor's name or id. */
    actor: freeText.optional(),
    /** Literal, case-insensitive substring of the target id or the detail. */
    text: freeText.optional(),
    limit: z.number().int('must be an integer').min(1, 'must be ≥ 1').max(1000, 'at most 1000').optional(),
  })
  .superRefine((input, ctx) => {
    if (!NS_PATTERN.test(input.from) || !NS_PATTERN.test(input.to)) return;
    const from = BigInt(input.from);
    const to = BigInt(input.to);
    if (to < from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (to - from > MAX_AUDIT_WINDOW_NS) ctx.addIssue({ code: 'custom', path: ['from'], message: 'the window from..to may span at most 400 days' });
  });

export const auditRouter = createTRPCRouter({
  /** Audit events in a window, newest first. */
  list: scopedProcedure
    .meta({ scope: 'audit:read' })
    .input(ZListAuditInputSchema)
    .use(withStorage)
    .query(async ({ ctx, input }) => {
      const limit = input.limit ?? 200;
      const events = await listAuditRecords(ctx.db, { ...input, fromNs: input.from, toNs: input.to, limit });
      return {
        events: events.map((e) => ({ ...e, detail: parseDetail(e.detail) })),
        limit,
        truncated: events.length >= limit,
      };
    }),
});

function parseDetail(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { raw: text };
  }
}
