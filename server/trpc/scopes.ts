import { TRPCError } from '@trpc/server';
import { actorOf, auditQuietly } from '../auth/audit';
import { isScope, minimumRoleFor, roleHasScope, SCOPES, type Scope } from '../auth/permissions';
import { AUTH_FAILURE_MESSAGES, type Principal } from '../auth/principal';
import type { TRPCContext } from './context';

/**
 * Scopes are "resource:action" strings, mapped to roles in ONE table: server/auth/permissions.ts.
 * Every procedure declares the one it needs in its meta.
 */
export { SCOPES, type Scope };

/** The meta every procedure carries (`.meta({ scope: 'processes:read' })`). */
export interface ProcedureMeta {
  scope: Scope;
}

/**
 * THE authorization hook: every procedure passes through here (see `init.ts`) with the scope it
 * declared, before its input is parsed. No credentials or invalid ones: UNAUTHORIZED (401).
 * A role without the scope: FORBIDDEN (403), and the denial is audited.
 */
export async function authorize(ctx: TRPCContext, scope: Scope, path: string): Promise<Principal> {
  if (!isScope(scope)) throw new Error(`procedure ${path} declares an unknown scope "${String(scope)}" (add it to server/auth/permissions.ts)`);
  const outcome = await ctx.authenticate();
  if (!outcome.ok) throw new TRPCError({ code: 'UNAUTHORIZED', message: AUTH_FAILURE_MESSAGES[outcome.failure] });
  const { principal } = outcome;
  if (!roleHasScope(principal.role, scope)) {
    await auditQuietly(await ctx.getDb().catch(() => null), {
      action: 'authz.denied',
      outcome: 'denied',
      actor: actorOf(principal),
      source: ctx.source,
      target: { type: 'procedure', id: path },
      detail: { scope },
    });
    throw new TRPCError({
      code: 'FORBIDDEN',
      message: `${path} needs the scope ${scope} (role ${minimumRoleFor(scope)} or above); ${principal.kind === 'token' ? 'this token has' : 'you have'} the role ${principal.role}`,
    });
  }
  return principal;
}
