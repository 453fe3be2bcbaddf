import { z } from 'zod';
import { createUser, emailSchema, endAllSessions, listAccounts, resetPassword, setUserDisabled, setUserRole, toUserView } from '../../auth/accounts';
import { actorOf } from '../../auth/audit';
import { roleSchema } from '../../auth/roles';
import { openSessionsOf, toSessionView } from '../../auth/sessions';
import { asApiErrors, authDeps } from '../authDeps';
import { createTRPCRouter, scopedProcedure, withStorage } from '../init';

export const ZUserRefInputSchema = z.strictObject({ id: z.uuid('a user id (UUID)') });
export const ZCreateUserInputSchema = z.strictObject({
  email: emailSchema,
  role: roleSchema,
  displayName: z.string().max(200, 'at most 200 characters').regex(/^[^\x00-\x1f\x7f]*$/, 'no control characters').optional(),
});
export const ZSetRoleInputSchema = z.strictObject({ id: z.uuid('a user id (UUID)'), role: roleSchema });
export const ZSetDisabledInputSchema = z.strictObject({ id: z.uuid('a user id (UUID)'), disabled: z.boolean() });

const adminUsers = scopedProcedure.meta({ scope: 'users:admin' });

export const usersRouter = createTRPCRouter({
  /** Every account, by email. */
  list: adminUsers.use(withStorage).query(async ({ ctx }) => ({ users: (await listAccounts(authDeps(ctx))).map(toUserView) })),

  /** Creates a local account with a generated password, returned once. */
  create: adminUsers
    .input(ZCreateUserInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) =>
      asApiErrors(async () => {
        const { user, password } = await createUser(authDeps(ctx), actorOf(ctx.principal), input, ctx.source);
        return { user: toUserView(user), password: password! };
      }),
    ),

  setRole: adminUsers
    .input(ZSetRoleInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) => asApiErrors(async () => toUserView(await setUserRole(authDeps(ctx), actorOf(ctx.principal), input.id, input.role, ctx.source)))),

  /** Disabling ends the user's sessions too. */
  setDisabled: adminUsers
    .input(ZSetDisabledInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) =>
      asApiErrors(async () => toUserView(await setUserDisabled(authDeps(ctx), actorOf(ctx.principal), input.id, input.disabled, ctx.source))),
    ),

  /** Ends every session of a user (they must sign in again). */
  endSessions: adminUsers
    .input(ZUserRefInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) => asApiErrors(async () => toUserView(await endAllSessions(authDeps(ctx), actorOf(ctx.principal), input.id, ctx.source)))),

  /** Sets a new generated password (returned once) and ends the user's sessions. */
  resetPassword: adminUsers
    .input(ZUserRefInputSchema)
    .use(withStorage)
    .mutation(({ ctx, input }) =>
      asApiErrors(async () => {
        const { user, password } = await resetPassword(authDeps(ctx), actorOf(ctx.principal), input.id, ctx.source);
        return { user: toUserView(user), password };
      }),
    ),

  /** A user's open sessions. */
  sessions: adminUsers
    .input(ZUserRefInputSchema)
    .use(withStorage)
    .query(async ({ ctx, input }) => ({
      sessions: (await openSessionsOf(authDeps(ctx), input.id)).map(toSessionView),
    })),
});
