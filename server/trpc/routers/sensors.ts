import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { getSensor, listSensors, type SensorDeps } from '../../sensors/service';
import type { Db } from '../../../db/client';
import type { TRPCContext } from '../context';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

export const ZSensorStatusInputSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'a sensor name: letters, digits, ".", "_" or "-" (at most 128)'),
});
export type TSensorStatusInputSchema = z.infer<typeof ZSensorStatusInputSchema>;

async function sensorDeps(ctx: TRPCContext & { db: Db }): Promise<SensorDeps> {
  return { db: ctx.db, live: await ctx.liveSensors(), configured: ctx.configuredSensors(), nowNs: ctx.now() };
}

const readSensors = scopedProcedure.meta({ scope: 'sensors:read' });

export const sensorsRouter = createTRPCRouter({
  /** Every configured or known sensor: connection, mode, kernel, drops, stream health. */
  list: readSensors.use(withStorage).query(async ({ ctx }) => ({ sensors: await listSensors(await sensorDeps(ctx)) })),

  /** One sensor in detail, with its recent gaps and drops. */
  status: readSensors.input(ZSensorStatusInputSchema).use(withStorage).query(async ({ ctx, input }) => {
    const sensor = await getSensor(await sensorDeps(ctx), input.name);
    if (!sensor) {
      throw new TRPCError({ code: 'NOT_FOUND', message: `no sensor named ${input.name} (not configured, nothing stored)` });
    }
    return sensor;
  }),
});
