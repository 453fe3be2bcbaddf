import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { execIdSchema } from '../../../db/ids';
import { listZoomOrders, listZooms } from '../../../db/repositories/zooms';
import { NS_PATTERN } from '../../../db/time';
import { actorOf } from '../../auth/audit';
import { manualOrderProblems, PROBE_NAMES, ZoomPolicyError, type ZoomPolicy } from '../../zoom/policy';
import { toZoomViews } from '../../zoom/views';
import type { TRPCContext } from '../context';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

const NS_PER_DAY = 86_400_000_000_000n;
const MAX_TIMESTAMP_NS = 9_223_372_036_854_775_807n;

const nsTimestamp = z
  .string()
  .regex(NS_PATTERN, 'must be nanoseconds since the Unix epoch, as a decimal string')
  .refine((v) => !NS_PATTERN.test(v) || BigInt(v) <= MAX_TIMESTAMP_NS, 'must be before 2262-04-11 (the nanosecond time range)');

export const investigationIdSchema = z.string().regex(/^[0-9a-f]{24}$/, 'an investigation id (24 hex digits)');
export const zoomIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'a zoom id (z-…, as the sensor named it)');
const nodeSchema = z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, 'a node name: letters, digits, ".", "_" or "-" (at most 253)');
const cgroupPathSchema = z
  .string()
  .max(4096, 'at most 4096 characters')
  .regex(/^\/[\x20-\x7e]*$/, 'an absolute cgroup v2 path below the hierarchy root ("/system.slice/x.service")')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

export const ZOrderZoomInputSchema = z
  .strictObject({
    /** the process image to zoom on (its running processes; they stay targeted across exec) */
    execId: execIdSchema.optional(),
    /** or a cgroup of a node (every process in it, and those that join) */
    cgroup: z.strictObject({ node: nodeSchema, path: cgroupPathSchema }).optional(),
    probes: z
      .array(z.enum(PROBE_NAMES, `one of ${PROBE_NAMES.join(', ')}`))
      .min(1, 'at least one probe set')
      .max(PROBE_NAMES.length)
      .refine((l) => new Set(l).size === l.length, 'each probe set once'),
    ttlSeconds: z.number().int('whole seconds').min(1, 'at least 1 s').max(86_400, 'at most 86400 s'),
    /** event budget (default: the policy's for manual orders) */
    maxEvents: z.number().int().min(1).max(10_000_000).optional(),
    reason: z.string().trim().min(3, 'required: say why (3–1000 characters)').max(1000, 'at most 1000 characters'),
    /** add the zoom to this investigation instead of opening a new one */
    investigationId: investigationIdSchema.optional(),
  })
  .superRefine((input, ctx) => {
    if ((input.execId === undefined) === (input.cgroup === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['execId'], message: 'give exactly one target: execId or cgroup' });
    }
  });
export type TOrderZoomInputSchema = z.infer<typeof ZOrderZoomInputSchema>;

export const ZCancelZoomInputSchema = z.strictObject({
  zoomId: zoomIdSchema,
  reason: z.string().trim().max(1000, 'at most 1000 characters').optional(),
});

export const ZListZoomsInputSchema = z
  .strictObject({
    investigationId: investigationIdSchema.optional(),
    /** only zooms ordered on this process image */
    execId: execIdSchema.optional(),
    /** window of the orders (default: the last 24 hours; with an investigation or a process, its whole life) */
    from: nsTimestamp.optional(),
    to: nsTimestamp.optional(),
    limit: z.number().int('must be an integer').min(1, 'must be ≥ 1').max(1000, 'at most 1000').optional(),
  })
  .superRefine((input, ctx) => {
    if (input.from && input.to && NS_PATTERN.test(input.from) && NS_PATTERN.test(input.to) && BigInt(input.to) < BigInt(input.from)) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    }
  })
  .optional();

/** The policy in force, or 503 when its file is broken (orders are not made under a policy nobody wrote). */
function policyOf(ctx: TRPCContext): ZoomPolicy {
  try {
    return ctx.zoomPolicy();
  } catch (err) {
    if (err instanceof ZoomPolicyError) throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: `zoom policy unavailable: ${err.message}` });
    throw err;
  }
}

/** A 400 shaped like a validation failure (field by field), for bounds the policy sets at run time. */
function policyViolation(problems: Array<{ path: string; message: string }>): TRPCError {
  const issues = problems.map((p) => ({ path: [p.path], message: p.message }));
  return new TRPCError({ code: 'BAD_REQUEST', message: problems.map((p) => `${p.path}: ${p.message}`).join('; '), cause: Object.assign(new Error('zoom policy'), { issues }) });
}

const readZooms = scopedProcedure.meta({ scope: 'zooms:read' });
const orderZooms = scopedProcedure.meta({ scope: 'zooms:order' });

export const zoomsRouter = createTRPCRouter({
  /**
   * Orders a zoom-in on a process image (or a cgroup of a node): the probe sets, for ttlSeconds,
   * and why. Refusals — by the cockpit's policy, or by the sensor — are clear 4xx/503 errors with
   * the reason, recorded and audited like the orders themselves.
   */
  order: orderZooms
    .input(ZOrderZoomInputSchema)
    .use(withStorage)
    .mutation(async ({ ctx, input }) => {
      const problems = manualOrderProblems(policyOf(ctx), input);
      if (problems.length > 0) throw policyViolation(problems);
      return ctx.zooms().order(ctx.db, actorOf(ctx.principal), ctx.source, {
        ...(input.execId ? { execId: input.execId } : {}),
        ...(input.cgroup ? { cgroup: input.cgroup } : {}),
        probes: input.probes,
        ttlSeconds: input.ttlSeconds,
        ...(input.maxEvents !== undefined ? { maxEvents: input.maxEvents } : {}),
        reason: input.reason,
        ...(input.investigationId ? { investigationId: input.investigationId } : {}),
      });
    }),

  /** Ends a zoom at once (its probes stop before the sensor answers). */
  cancel: orderZooms
    .input(ZCancelZoomInputSchema)
    .use(withStorage)
    .mutation(async ({ ctx, input }) => ctx.zooms().cancel(ctx.db, actorOf(ctx.principal), ctx.source, input.zoomId, input.reason ?? '')),

  /** Zooms with their orders and lifecycle (refused orders included), newest first. */
  list: readZooms
    .input(ZListZoomsInputSchema)
    .use(withStorage)
    .query(async ({ ctx, input }) => {
      const now = ctx.now();
      const limit = input?.limit ?? 200;
      const to = input?.to ?? (now + 3_600_000_000_000n).toString();
      const whole = input?.investigationId !== undefined || input?.execId !== undefined;
      const from = input?.from ?? (whole ? (now - 400n * NS_PER_DAY).toString() : (now - NS_PER_DAY).toString());
      const query = {
        fromNs: from,
        toNs: to,
        limit,
        ...(input?.investigationId ? { investigationId: input.investigationId } : {}),
        ...(input?.execId ? { execId: input.execId } : {}),
      };
      const [zooms, orders] = await Promise.all([listZooms(ctx.db, query), listZoomOrders(ctx.db, query)]);
      const views = toZoomViews(zooms, orders, now);
      return { zooms: views.slice(0, limit), limit, truncated: views.length > limit || zooms.length >= limit };
    }),

  /** The zoom policy in force: what indicators zoom automatically, the probes, TTLs and bounds. */
  policy: readZooms.query(({ ctx }) => policyOf(ctx)),
});
