import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { NS_PATTERN } from '../../../db/time';
import {
  investigationCode,
  investigationDetail,
  investigationFiles,
  investigationNetwork,
  InvestigationNotFoundError,
  listInvestigationViews,
} from '../../investigations/service';
import { getServiceMap, reloadServiceMap } from '../../investigations/serviceMap';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';
import { investigationIdSchema } from './zooms';

const NS_PER_DAY = 86_400_000_000_000n;
const MAX_TIMESTAMP_NS = 9_223_372_036_854_775_807n;

const nsTimestamp = z
  .string()
  .regex(NS_PATTERN, 'must be nanoseconds since the Unix epoch, as a decimal string')
  .refine((v) => !NS_PATTERN.test(v) || BigInt(v) <= MAX_TIMESTAMP_NS, 'must be before 2262-04-11 (the nanosecond time range)');

export const ZListInvestigationsInputSchema = z
  .strictObject({
    /** updated in [from, to] (default: the last 30 days) */
    from: nsTimestamp.optional(),
    to: nsTimestamp.optional(),
    status: z.enum(['open', 'closed']).optional(),
    /** only those that group this indicator */
    indicatorId: z.string().regex(/^[0-9a-f]{24}$/, 'an indicator id (24 hex digits)').optional(),
    limit: z.number().int('must be an integer').min(1, 'must be ≥ 1').max(1000, 'at most 1000').optional(),
  })
  .superRefine((input, ctx) => {
    if (input.from && input.to && NS_PATTERN.test(input.from) && NS_PATTERN.test(input.to)) {
      const from = BigInt(input.from);
      const to = BigInt(input.to);
      if (to < from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
      else if (to - from > 800n * NS_PER_DAY) ctx.addIssue({ code: 'custom', path: ['from'], message: 'the window from..to may span at most 800 days' });
    }
  })
  .optional();

export const ZInvestigationIdInputSchema = z.strictObject({ id: investigationIdSchema });

/** Unknown investigation: 404 (the services say so with their own error). */
async function found<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof InvestigationNotFoundError) throw new TRPCError({ code: 'NOT_FOUND', message: err.message });
    throw err;
  }
}

const read = scopedProcedure.meta({ scope: 'investigations:read' });

export const investigationsRouter = createTRPCRouter({
  /** Investigations (newest change first), each with its zoom counts. */
  list: read
    .input(ZListInvestigationsInputSchema)
    .use(withStorage)
    .query(async ({ ctx, input }) => {
      const now = ctx.now();
      const limit = input?.limit ?? 100;
      const investigations = await listInvestigationViews(ctx.db, {
        fromNs: input?.from ?? (now - 30n * NS_PER_DAY).toString(),
        toNs: input?.to ?? (now + 3_600_000_000_000n).toString(),
        limit,
        ...(input?.status ? { status: input.status } : {}),
        ...(input?.indicatorId ? { indicatorId: input.indicatorId } : {}),
      });
      return { investigations, limit, truncated: investigations.length >= limit };
    }),

  /** One investigation: its indicators, its zooms with lifecycle and remaining TTL, evidence counts, all findings. */
  get: read
    .input(ZInvestigationIdInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationDetail(ctx.db, input.id, ctx.now()))),

  /** Per destination: service, contacts, first/last, interval median, jitter, bytes, payload format (with reasons). */
  network: read
    .input(ZInvestigationIdInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationNetwork(ctx.db, input.id, ctx.now()))),

  /** Per file and operation: class, count, bytes, whether through io_uring. */
  files: read
    .input(ZInvestigationIdInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationFiles(ctx.db, input.id, ctx.now()))),

  /** Per module of code: language, build id, sha256, whether it differs from the workload's language. */
  code: read
    .input(ZInvestigationIdInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationCode(ctx.db, input.id, ctx.now()))),
});

/** The service map the analyses name destinations with (SERVICE_MAP_FILE). */
export const serviceMapRouter = createTRPCRouter({
  get: read.query(() => getServiceMap().state),
  /** Reads the files again; a file that fails keeps its previous entries and says why (409). */
  reload: scopedProcedure.meta({ scope: 'settings:admin' }).mutation(async ({ ctx }) => {
    const state = reloadServiceMap();
    const failed = state.sources.filter((s) => s.error);
    await ctx.audit({
      action: 'servicemap.reload',
      outcome: failed.length > 0 ? 'failure' : 'success',
      target: { type: 'service_map', id: state.configured },
      detail: { sources: state.sources.map((s) => ({ file: s.file, format: s.format, entries: s.entries, error: s.error })) },
    });
    if (failed.length > 0) {
      throw new TRPCError({ code: 'CONFLICT', message: `service map reloaded with errors (previous entries kept): ${failed.map((s) => `${s.file}: ${s.error}`).join('; ')}` });
    }
    return state;
  }),
});
