import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { actorOf } from '../../auth/audit';
import { roleSchema } from '../../auth/roles';
import { createApiToken, listTokens, revokeApiTokenById, toTokenView } from '../../auth/tokens';
import { asApiErrors, authDeps } from '../authDeps';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

export const TOKEN_ID_PATTERN = /^[0-9a-f]{16}$/;
export const tokenNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100, 'at most 100 characters')
  .regex(/^[^\x00-\x1f\x7f]*$/, 'no control characters');

export const ZCreateTokenInputSchema = z.strictObject({
  name: tokenNameSchema,
  role: roleSchema,
  /** Days until it expires (the cockpit's maximum is AUTH_TOKEN_MAX_DAYS, 365 by default). */
  expiresInDays: z.number().int('whole days').min(1, 'at least 1 day').max(3650, 'at most 3650 days'),
});
export const ZTokenRefInputSchema = z.strictObject({ id: z.string().regex(TOKEN_ID_PATTERN, 'a token id (16 hex digits)') });

const adminTokens = scopedProcedure.meta({ scope: 'tokens:admin' });

export const tokensRouter = createTRPCRouter({
  /** Every token, newest first, with its state (active, expired, revoked) and last use. */
  list: adminTokens.use(withStorage).query(async ({ ctx }) => {
    const now = ctx.now();
    return { tokens: (await listTokens(authDeps(ctx))).map((t) => toTokenView(t, now)) };
  }),

  /** Creates a token bound to a role. The token itself is in the answer, once, and never again. */
  create: adminTokens
    .input(ZCreateTokenInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) =>
      asApiErrors(async () => {
        const deps = authDeps(ctx);
        const { token, record } = await createApiToken(deps, { ...input, createdBy: `${ctx.principal.kind}:${ctx.principal.name}` });
        await ctx.audit({ action: 'tokens.create', target: { type: 'token', id: record.id }, detail: { name: record.name, role: record.role, expiresAtNs: record.expiresAtNs } });
        return { token, info: toTokenView(record, ctx.now()) };
      }),
    ),

  /** Revokes a token: requests with it are refused from now on (within AUTH_CACHE_SECONDS elsewhere). */
  revoke: adminTokens
    .input(ZTokenRefInputSchema)
    .use(withStorage)
    .mutation(async ({ ctx, input }) => {
      const result = await revokeApiTokenById(authDeps(ctx), input.id, `${ctx.principal.kind}:${ctx.principal.name}`);
      if (!result) throw new TRPCError({ code: 'NOT_FOUND', message: `no token with id ${input.id}` });
      if (!result.alreadyRevoked) await ctx.audit({ action: 'tokens.revoke', target: { type: 'token', id: input.id }, detail: { name: result.record.name } });
      return toTokenView({ ...result.record, revokedAtNs: result.record.revokedAtNs ?? ctx.now().toString() }, ctx.now());
    }),
});
