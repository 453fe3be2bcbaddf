import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { getIndicator, listIndicators, SEVERITIES } from '../../../db/repositories/indicators';
import { NS_PATTERN } from '../../../db/time';
import { isWorkloadKey } from '../../baselines/mapping';
import { toIndicatorDetail, toIndicatorView } from '../../indicators/views';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

const NS_PER_DAY = 86_400_000_000_000n;
/** Indicators are kept a year: a window may span up to 400 days. */
export const MAX_INDICATOR_WINDOW_NS = 400n * NS_PER_DAY;
const MAX_TIMESTAMP_NS = 9_223_372_036_854_775_807n;
export const DEFAULT_INDICATOR_LIMIT = 100;
export const INDICATOR_KINDS = ['syscall', 'io_uring_op', 'exec', 'endpoint', 'file'] as const;

const nsTimestamp = z
  .string()
  .regex(NS_PATTERN, 'must be nanoseconds since the Unix epoch, as a decimal string')
  .refine((v) => !NS_PATTERN.test(v) || BigInt(v) <= MAX_TIMESTAMP_NS, 'must be before 2262-04-11 (the nanosecond time range)');

export const workloadKeySchema = z
  .string()
  .min(3, 'a workload key such as k8s/shop/checkout-api/api or cgroup/soc-test/a')
  .max(1024, 'at most 1024 characters')
  .refine(isWorkloadKey, 'not a workload key (k8s/…, k8s-pod/…, container/…, systemd/…, cgroup/…, host/…, imported/…)');

export const ZListIndicatorsInputSchema = z
  .strictObject({
    from: nsTimestamp,
    to: nsTimestamp,
    node: z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, 'node: letters, digits, ".", "_" or "-" (at most 253)').optional(),
    workload: workloadKeySchema.optional(),
    kind: z.enum(INDICATOR_KINDS).optional(),
    /** At least this severity. */
    severity: z.enum(SEVERITIES as unknown as ['low', 'medium', 'high']).optional(),
    limit: z.number().int('must be an integer').min(1, 'must be ≥ 1').max(1000, 'at most 1000').optional(),
  })
  .superRefine((input, ctx) => {
    if (!NS_PATTERN.test(input.from) || !NS_PATTERN.test(input.to)) return;
    const from = BigInt(input.from);
    const to = BigInt(input.to);
    if (to < from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (to - from > MAX_INDICATOR_WINDOW_NS) ctx.addIssue({ code: 'custom', path: ['from'], message: 'the window from..to may span at most 400 days' });
  });
export type TListIndicatorsInputSchema = z.infer<typeof ZListIndicatorsInputSchema>;

export const ZIndicatorIdInputSchema = z.strictObject({ id: z.string().regex(/^[0-9a-f]{24}$/, 'an indicator id (24 hex digits)') });

const readIndicators = scopedProcedure.meta({ scope: 'indicators:read' });

export const indicatorsRouter = createTRPCRouter({
  /** Indicators active in [from, to] (first seen before `to`, last seen after `from`), newest first. */
  list: readIndicators.input(ZListIndicatorsInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const limit = input.limit ?? DEFAULT_INDICATOR_LIMIT;
    const records = await listIndicators(ctx.db, { ...input, fromNs: input.from, toNs: input.to, limit });
    return { indicators: records.map(toIndicatorView), limit, truncated: records.length >= limit };
  }),

  /** One indicator with its explanation as data. */
  get: readIndicators.input(ZIndicatorIdInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const record = await getIndicator(ctx.db, input.id);
    if (!record) throw new TRPCError({ code: 'NOT_FOUND', message: `no indicator ${input.id}` });
    return toIndicatorDetail(record);
  }),
});
