import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { execIdSchema } from '../../../db/ids';
import { VERDICTS } from '../../../db/schema/investigation';
import { NS_PATTERN } from '../../../db/time';
import { actorOf } from '../../auth/audit';
import { investigationAncestry } from '../../investigations/ancestry';
import { NotFoundError } from '../../investigations/errors';
import { investigationEvent } from '../../investigations/event';
import { investigationEvidenceTree } from '../../investigations/evidenceTree';
import {
  investigationCode,
  investigationDetail,
  investigationFiles,
  investigationNetwork,
  listInvestigationViews,
  type Narrowing,
} from '../../investigations/service';
import { investigationTimeline } from '../../investigations/timeline';
import { addNote, setVerdict } from '../../investigations/verdicts';
import { getServiceMap, reloadServiceMap } from '../../investigations/serviceMap';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';
import { investigationIdSchema } from './zooms';

const NS_PER_DAY = 86_400_000_000_000n;
const MAX_TIMESTAMP_NS = 9_223_372_036_854_775_807n;

const nsTimestamp = z
  .string()
  .regex(NS_PATTERN, 'must be nanoseconds since the Unix epoch, as a decimal string')
  .refine((v) => !NS_PATTERN.test(v) || BigInt(v) <= MAX_TIMESTAMP_NS, 'must be before 2262-04-11 (the nanosecond time range)');

/** from ≤ to, at most 800 days apart (when both are given). */
function checkWindow(input: { from?: string | undefined; to?: string | undefined }, ctx: z.RefinementCtx): void {
  if (input.from && input.to && NS_PATTERN.test(input.from) && NS_PATTERN.test(input.to)) {
    const from = BigInt(input.from);
    const to = BigInt(input.to);
    if (to < from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (to - from > 800n * NS_PER_DAY) ctx.addIssue({ code: 'custom', path: ['from'], message: 'the window from..to may span at most 800 days' });
  }
}

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
  .superRefine(checkWindow)
  .optional();

export const ZInvestigationIdInputSchema = z.strictObject({ id: investigationIdSchema });

/** A panel narrowed by the page: a time range (brushing) and/or one process (focus). */
export const ZNarrowedInputSchema = z
  .strictObject({
    id: investigationIdSchema,
    /** only rows at or after (ns) */
    from: nsTimestamp.optional(),
    /** only rows at or before (ns) */
    to: nsTimestamp.optional(),
    /** only rows of this process image */
    execId: execIdSchema.optional(),
  })
  .superRefine(checkWindow);
export type TNarrowedInput = z.infer<typeof ZNarrowedInputSchema>;

export const ZAncestryInputSchema = z.strictObject({ id: investigationIdSchema, execId: execIdSchema.optional() });

export const ZEventInputSchema = z.strictObject({
  id: investigationIdSchema,
  ref: z.string().max(2048, 'at most 2048 characters').regex(/^[a-z]-[A-Za-z0-9_-]+$/, 'a row ref (as the investigation procedures return it)'),
});

const trimmedText = (max: number, what: string) =>
  z
    .string()
    .trim()
    .min(1, `${what} is required`)
    .max(max, `at most ${max} characters`);

export const ZSetVerdictInputSchema = z.strictObject({
  id: investigationIdSchema,
  verdict: z.enum(VERDICTS, `one of ${VERDICTS.join(', ')}`),
  reason: trimmedText(2000, 'a reason'),
});

export const ZAddNoteInputSchema = z.strictObject({ id: investigationIdSchema, text: trimmedText(5000, 'the text') });

const narrowingOf = (input: TNarrowedInput): Narrowing => ({
  ...(input.from !== undefined ? { fromNs: input.from } : {}),
  ...(input.to !== undefined ? { toNs: input.to } : {}),
  ...(input.execId !== undefined ? { execId: input.execId } : {}),
});

/** Unknown investigation, process or row: 404 (the services say so with their own error). */
async function found<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof NotFoundError) throw new TRPCError({ code: 'NOT_FOUND', message: err.message });
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

  /**
   * Per destination: service, contacts (and their times and intervals), first/last, interval
   * median, jitter, bytes, payload format (with reasons) and the captured prefixes; narrowed to
   * from..to and/or one process when given.
   */
  network: read
    .input(ZNarrowedInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationNetwork(ctx.db, input.id, ctx.now(), narrowingOf(input)))),

  /** Per file and operation: class, count, bytes, whether through io_uring (narrowed like network). */
  files: read
    .input(ZNarrowedInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationFiles(ctx.db, input.id, ctx.now(), narrowingOf(input)))),

  /** Per module of code: language, build id, sha256, whether it differs from the workload's language (narrowed like network). */
  code: read
    .input(ZNarrowedInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationCode(ctx.db, input.id, ctx.now(), narrowingOf(input)))),

  /** Lanes of process, io_uring, network, file, zoom and gap events in from..to (default: the whole investigation), bucketed. */
  timeline: read
    .input(ZNarrowedInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationTimeline(ctx.db, input.id, ctx.now(), narrowingOf(input)))),

  /** The chain from the root to the focused process (default: the investigation's), its siblings and children. */
  ancestry: read
    .input(ZAncestryInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationAncestry(ctx.db, input.id, input.execId))),

  /** Indicators → findings → the rows that support each finding (each with its ref). */
  evidenceTree: read
    .input(ZInvestigationIdInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationEvidenceTree(ctx.db, input.id, ctx.now()))),

  /** One stored row by its ref, every column as text (404 for an unknown ref). */
  event: read
    .input(ZEventInputSchema)
    .use(withStorage)
    .query(({ ctx, input }) => found(investigationEvent(ctx.db, input.id, input.ref))),

  /** Sets the verdict (benign, malicious, inconclusive) with its reason; who and when are recorded; audited. */
  setVerdict: scopedProcedure
    .meta({ scope: 'verdicts:write' })
    .input(ZSetVerdictInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) => found(setVerdict(ctx.db, { actor: actorOf(ctx.principal), audit: ctx.audit, nowNs: ctx.now() }, input))),

  /** Adds a note (1..5000 characters); audited. */
  addNote: scopedProcedure
    .meta({ scope: 'investigations:write' })
    .input(ZAddNoteInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) => found(addNote(ctx.db, { actor: actorOf(ctx.principal), audit: ctx.audit, nowNs: ctx.now() }, input))),
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
