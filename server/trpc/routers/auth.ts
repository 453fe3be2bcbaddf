import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { changeOwnPassword } from '../../auth/accounts';
import { MAX_PASSWORD_LENGTH } from '../../auth/passwords';
import { scopesOf } from '../../auth/permissions';
import { openSessionsOf, toSessionView } from '../../auth/sessions';
import { asApiErrors, authDeps } from '../authDeps';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

const readAccount = scopedProcedure.meta({ scope: 'account:read' });
const writeAccount = scopedProcedure.meta({ scope: 'account:write' });

export const ZChangePasswordInputSchema = z.strictObject({
  currentPassword: z.string().min(1, 'required').max(MAX_PASSWORD_LENGTH),
  newPassword: z.string().min(1, 'required').max(MAX_PASSWORD_LENGTH, `at most ${MAX_PASSWORD_LENGTH} characters`),
});

export const authRouter = createTRPCRouter({
  /** Who is calling: a user (session) or an API token, their role and the scopes it grants. */
  me: readAccount.query(({ ctx }) => {
    const p = ctx.principal;
    return {
      kind: p.kind,
      id: p.id,
      name: p.name,
      role: p.role,
      scopes: scopesOf(p.role),
      session: p.kind === 'user' ? { createdAtNs: p.session.createdAtNs, expiresAtNs: p.session.expiresAtNs, method: p.session.method } : null,
      tokenExpiresAtNs: p.kind === 'token' ? p.expiresAtNs : null,
    };
  }),

  /** The caller's own open sessions (none for a token), newest first; `current` marks this one. */
  sessions: readAccount.use(withStorage).query(async ({ ctx }) => {
    const p = ctx.principal;
    if (p.kind !== 'user') return { sessions: [] };
    const sessions = await openSessionsOf(authDeps(ctx), p.id);
    return {
      sessions: sessions.map((s) => ({ current: s.idHash === p.session.idHash, ...toSessionView(s) })),
    };
  }),

  /** Changes the caller's own password; every session of theirs ends (this one too). */
  changePassword: writeAccount
    .input(ZChangePasswordInputSchema)
    .use(withStorage)
    .mutation(async ({ ctx, input }) => {
      const p = ctx.principal;
      if (p.kind !== 'user') throw new TRPCError({ code: 'BAD_REQUEST', message: 'an API token has no password: sign in as a user' });
      await asApiErrors(() => changeOwnPassword(authDeps(ctx), p.id, input, ctx.source));
      return { signedOut: true };
    }),
});
