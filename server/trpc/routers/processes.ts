import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { execIdSchema } from '../../../db/ids';
import { getAncestry, getChildren, getForks, getProcess, searchProcesses } from '../../../db/repositories/processes';
import { NS_PATTERN } from '../../../db/time';
import { toAncestryView, toForkView, toProcessBrief, toProcessView } from '../../processes/views';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

const NS_PER_DAY = 86_400_000_000_000n;
/** Searches are bounded in time: storage keeps 30 days, and an unbounded scan is never wanted. */
export const MAX_SEARCH_WINDOW_NS = 31n * NS_PER_DAY;
/** DateTime64(9) ends in 2262; later values would fail in storage instead of here. */
const MAX_TIMESTAMP_NS = 9_223_372_036_854_775_807n;
export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1000;
export const MAX_ANCESTRY_DEPTH = 64;

const nsTimestamp = z
  .string()
  .regex(NS_PATTERN, 'must be nanoseconds since the Unix epoch, as a decimal string')
  // Zod runs refinements even after the regex failed: only convert what is known to be digits.
  .refine((v) => !NS_PATTERN.test(v) || BigInt(v) <= MAX_TIMESTAMP_NS, 'must be before 2262-04-11 (the nanosecond time range)');

export const ZSearchProcessesInputSchema = z
  .strictObject({
    node: z.string().regex(/^[A-Za-z0-9._-]{1,253}$/, 'node: letters, digits, ".", "_" or "-" (at most 253)').optional(),
    binary: z.string().min(1, 'must not be empty (leave it out to match any)').max(256, 'at most 256 characters').optional(),
    pid: z.number().int('must be an integer').min(0, 'must be ≥ 0').max(4_194_304, 'at most 4194304 (PID_MAX_LIMIT)').optional(),
    from: nsTimestamp,
    to: nsTimestamp,
    limit: z.number().int('must be an integer').min(1, 'must be ≥ 1').max(MAX_SEARCH_LIMIT, `at most ${MAX_SEARCH_LIMIT}`).optional(),
  })
  .superRefine((input, ctx) => {
    if (!NS_PATTERN.test(input.from) || !NS_PATTERN.test(input.to)) return;
    const from = BigInt(input.from);
    const to = BigInt(input.to);
    if (to < from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (to - from > MAX_SEARCH_WINDOW_NS) ctx.addIssue({ code: 'custom', path: ['from'], message: 'the window from..to may span at most 31 days' });
  });
export type TSearchProcessesInputSchema = z.infer<typeof ZSearchProcessesInputSchema>;

export const ZExecIdInputSchema = z.strictObject({ execId: execIdSchema });
export type TExecIdInputSchema = z.infer<typeof ZExecIdInputSchema>;

function notFound(execId: string): TRPCError {
  return new TRPCError({ code: 'NOT_FOUND', message: `no process with exec id ${execId}` });
}

const readProcesses = scopedProcedure.meta({ scope: 'processes:read' });

export const processesRouter = createTRPCRouter({
  /** Process images that started in [from, to], newest first. */
  search: readProcesses.input(ZSearchProcessesInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const limit = input.limit ?? DEFAULT_SEARCH_LIMIT;
    const records = await searchProcesses(ctx.db, {
      node: input.node,
      binary: input.binary,
      pid: input.pid,
      fromNs: input.from,
      toNs: input.to,
      limit,
    });
    return { processes: records.map(toProcessView), limit, truncated: records.length >= limit };
  }),

  /** Everything known about one process image. */
  get: readProcesses.input(ZExecIdInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const record = await getProcess(ctx.db, input.execId);
    if (!record) throw notFound(input.execId);
    return toProcessView(record);
  }),

  /** The chain from the process up to its root (process first), and why it ends there. */
  ancestry: readProcesses.input(ZExecIdInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const chain = await getAncestry(ctx.db, input.execId, MAX_ANCESTRY_DEPTH);
    if (chain.length === 0) throw notFound(input.execId);
    return toAncestryView(chain, MAX_ANCESTRY_DEPTH);
  }),

  /** Images the process exec'd as children, and pids it forked that never exec'd. */
  children: readProcesses.input(ZExecIdInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    if (!(await getProcess(ctx.db, input.execId))) throw notFound(input.execId);
    const children = await getChildren(ctx.db, input.execId);
    const forks = await getForks(ctx.db, input.execId);
    return { children: children.map(toProcessBrief), forks: forks.map(toForkView) };
  }),
});
