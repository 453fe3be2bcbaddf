import { createCallerFactory, createTRPCRouter } from './init';
import { processesRouter } from './routers/processes';
import { sensorsRouter } from './routers/sensors';

/** The API: one router per feature. Served at /api/trpc (see docs/API.md). */
export const appRouter = createTRPCRouter({
  processes: processesRouter,
  sensors: sensorsRouter,
});

export type AppRouter = typeof appRouter;

/**
 * Calls procedures in-process (server components, tests):
 *   const api = createCaller(await createTRPCContext({ headers }));
 *   await api.processes.get({ execId });
 */
export const createCaller = createCallerFactory(appRouter);
