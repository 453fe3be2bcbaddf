import { z } from 'zod';
import { createUser, emailSchema, endAllSessions, listAccounts, resetPassword, setUserDisabled, setUserRole, toUserView, unlockAccount } from './accounts';
import type { AuditActor } from './audit';
import { audit } from './audit';
import type { AuthDeps } from './deps';
import { roleSchema } from './roles';
import { createApiToken, listTokens, revokeApiTokenById, toTokenView } from './tokens';

/**
 * The administration commands of the CLI (`npm run users -- …`, `npm run tokens -- …`), as data:
 * the CLI runs them against storage directly, or sends them to the running cockpit over its admin
 * socket (server/auth/adminSocket.ts) when the cockpit holds the embedded data directory. The web
 * pages call the same functions through tRPC.
 */
const userRef = z.string().min(1).max(254);
export const ZAdminRequest = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('users.create'), email: emailSchema, role: roleSchema, displayName: z.string().max(200).optional() }),
  z.strictObject({ op: z.literal('users.list') }),
  z.strictObject({ op: z.literal('users.setRole'), user: userRef, role: roleSchema }),
  z.strictObject({ op: z.literal('users.disable'), user: userRef }),
  z.strictObject({ op: z.literal('users.enable'), user: userRef }),
  z.strictObject({ op: z.literal('users.endSessions'), user: userRef }),
  z.strictObject({ op: z.literal('users.resetPassword'), user: userRef }),
  z.strictObject({ op: z.literal('users.unlock'), email: emailSchema }),
  z.strictObject({ op: z.literal('tokens.create'), name: z.string().trim().min(1).max(100).regex(/^[^\x00-\x1f\x7f]*$/), role: roleSchema, expiresInDays: z.number().int().min(1).max(3650) }),
  z.strictObject({ op: z.literal('tokens.list') }),
  z.strictObject({ op: z.literal('tokens.revoke'), id: z.string().regex(/^[0-9a-f]{16}$/, 'a token id (16 hex digits)') }),
]);
export type AdminRequest = z.infer<typeof ZAdminRequest>;

/** Runs one command; the result is plain JSON (it may travel over the socket). */
export async function runAdminCommand(deps: AuthDeps, actor: AuditActor, request: AdminRequest): Promise<unknown> {
  const label = `${actor.type}:${actor.name || actor.id}`;
  switch (request.op) {
    case 'users.create': {
      const { user, password } = await createUser(deps, actor, { email: request.email, role: request.role, displayName: request.displayName });
      return { user: toUserView(user), password };
    }
    case 'users.list':
      return { users: (await listAccounts(deps)).map(toUserView) };
    case 'users.setRole':
      return { user: toUserView(await setUserRole(deps, actor, request.user, request.role)) };
    case 'users.disable':
      return { user: toUserView(await setUserDisabled(deps, actor, request.user, true)) };
    case 'users.enable':
      return { user: toUserView(await setUserDisabled(deps, actor, request.user, false)) };
    case 'users.endSessions':
      return { user: toUserView(await endAllSessions(deps, actor, request.user)) };
    case 'users.resetPassword': {
      const { user, password } = await resetPassword(deps, actor, request.user);
      return { user: toUserView(user), password };
    }
    case 'users.unlock':
      await unlockAccount(deps, actor, request.email);
      return { unlocked: request.email };
    case 'tokens.create': {
      const { token, record } = await createApiToken(deps, { name: request.name, role: request.role, expiresInDays: request.expiresInDays, createdBy: label });
      await audit(deps.db, { atNs: deps.now(), action: 'tokens.create', actor, target: { type: 'token', id: record.id }, detail: { name: record.name, role: record.role, expiresAtNs: record.expiresAtNs } });
      return { token, info: toTokenView(record, deps.now()) };
    }
    case 'tokens.list': {
      const now = deps.now();
      return { tokens: (await listTokens(deps)).map((t) => toTokenView(t, now)) };
    }
    case 'tokens.revoke': {
      const result = await revokeApiTokenById(deps, request.id, label);
      if (!result) throw new Error(`no token with id ${request.id}`);
      if (!result.alreadyRevoked) await audit(deps.db, { atNs: deps.now(), action: 'tokens.revoke', actor, target: { type: 'token', id: request.id }, detail: { name: result.record.name } });
      return { revoked: request.id, alreadyRevoked: result.alreadyRevoked };
    }
  }
}
