import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { BaselineChangeError } from '../../baselines/changes';
import { ProfileFormatError } from '../../baselines/kubescape';
import { allowBaselineEntry, exportBaseline, getBaseline, importBaseline, listBaselines } from '../../baselines/service';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';
import { INDICATOR_KINDS, workloadKeySchema } from './indicators';

/** A document larger than this is refused (the API's body limit is 256 KiB anyway). */
export const MAX_IMPORT_CHARS = 250_000;

export const ZWorkloadInputSchema = z.strictObject({ workload: workloadKeySchema });

export const ZImportBaselineInputSchema = z.strictObject({
  /** A Kubescape ApplicationProfile (spdx.softwarecomposition.kubescape.io/v1beta1), YAML or JSON. */
  yaml: z.string().min(1, 'must not be empty').max(MAX_IMPORT_CHARS, `at most ${MAX_IMPORT_CHARS} characters`),
  /** Import the document's one container into this workload instead of k8s/<namespace>/<name>/<container>. */
  workload: workloadKeySchema.optional(),
});

export const ZAllowEntryInputSchema = z.strictObject({
  workload: workloadKeySchema,
  /** The executable's profile, or "*" (default) for every executable of the workload. */
  executable: z
    .string()
    .max(4096, 'at most 4096 characters')
    .refine((v) => v === '*' || /^\/[^\u0000]*$/.test(v), 'an absolute executable path, or "*" for the whole workload')
    .optional(),
  kind: z.enum(INDICATOR_KINDS),
  value: z.string().min(1, 'must not be empty').max(4096, 'at most 4096 characters'),
  /** Why this is normal (kept with the entry and in the audit log). */
  reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(1000, 'at most 1000 characters'),
  /** The indicator this allow answers (it is marked allowed). */
  indicatorId: z.string().regex(/^[0-9a-f]{24}$/, 'an indicator id (24 hex digits)').optional(),
});

function publicError(err: unknown): never {
  if (err instanceof ProfileFormatError) throw new TRPCError({ code: 'BAD_REQUEST', message: err.message });
  if (err instanceof BaselineChangeError) throw new TRPCError({ code: err.code, message: err.message });
  throw err;
}

const readBaselines = scopedProcedure.meta({ scope: 'baselines:read' });
const writeBaselines = scopedProcedure.meta({ scope: 'baselines:write' });

export const baselinesRouter = createTRPCRouter({
  /** Every workload with a baseline: status, profiles, entries, learning window, indicators. */
  list: readBaselines.use(withStorage).query(async ({ ctx }) => ({ workloads: await listBaselines(ctx.db, ctx.now()) })),

  /** One workload: its profiles (entries, status, learning window and progress) and its indicators. */
  get: readBaselines.input(ZWorkloadInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const view = await getBaseline(ctx.db, input.workload, ctx.now());
    if (!view) throw new TRPCError({ code: 'NOT_FOUND', message: `no baseline for workload ${input.workload}` });
    return view;
  }),

  /** The workload's baseline as a Kubescape ApplicationProfile (YAML); exports are audited. */
  export: readBaselines.input(ZWorkloadInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const exported = await exportBaseline(ctx.db, input.workload);
    if (!exported) throw new TRPCError({ code: 'NOT_FOUND', message: `no baseline for workload ${input.workload}` });
    await ctx.audit({ action: 'baselines.export', target: { type: 'workload', id: input.workload } });
    return exported;
  }),

  /** Imports a Kubescape ApplicationProfile as the baseline of its workload(s) (audited). */
  import: writeBaselines
    .input(ZImportBaselineInputSchema)
    .use(withStorage)
    .mutation(async ({ ctx, input }) =>
      importBaseline(ctx.db, { yaml: input.yaml, workload: input.workload, actor: ctx.principal.name, nowNs: ctx.now() }, (detail) =>
        ctx.audit({ action: 'baselines.import', target: { type: 'workload', id: input.workload ?? String((detail.workloads as Array<{ workload: string }>)[0]?.workload ?? '') }, detail }),
      ).catch(publicError),
    ),

  /** Allows an entry in a profile, with a reason (audited); a new profile version. */
  allow: writeBaselines
    .input(ZAllowEntryInputSchema)
    .use(withStorage)
    .mutation(async ({ ctx, input }) =>
      allowBaselineEntry(
        ctx.db,
        { ...input, executable: input.executable ?? '*', actor: ctx.principal.name, nowNs: ctx.now() },
        (detail) => ctx.audit({ action: 'baselines.allow', target: { type: 'workload', id: input.workload }, detail }),
      ).catch(publicError),
    ),
});
