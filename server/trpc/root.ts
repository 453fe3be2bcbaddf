import { createCallerFactory, createTRPCRouter } from './init';
import { auditRouter } from './routers/audit';
import { authRouter } from './routers/auth';
import { baselinesRouter } from './routers/baselines';
import { indicatorsRouter } from './routers/indicators';
import { investigationsRouter, serviceMapRouter } from './routers/investigations';
import { processesRouter } from './routers/processes';
import { sensorsRouter } from './routers/sensors';
import { tokensRouter } from './routers/tokens';
import { usersRouter } from './routers/users';
import { zoomsRouter } from './routers/zooms';

/** The API: one router per feature. Served at /api/trpc (see docs/API.md). */
export const appRouter = createTRPCRouter({
  auth: authRouter,
  processes: processesRouter,
  indicators: indicatorsRouter,
  baselines: baselinesRouter,
  zooms: zoomsRouter,
  investigations: investigationsRouter,
  serviceMap: serviceMapRouter,
  sensors: sensorsRouter,
  users: usersRouter,
  tokens: tokensRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;

/**
 * Calls procedures in-process (server components, tests):
 *   const api = createCaller(await createTRPCContext({ headers }));
 *   await api.processes.get({ execId });
 */
export const createCaller = createCallerFactory(appRouter);
