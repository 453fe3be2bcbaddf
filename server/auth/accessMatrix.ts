import type { AnyRouter } from '@trpc/server';
import { isScope, SCOPE_ROLES, type Scope } from './permissions';
import type { Role } from './roles';

/**
 * The access matrix, read off the router itself: every procedure with the scope it declares and
 * the roles that scope grants (server/auth/permissions.ts). Used by the access-matrix test and by
 * docs; a procedure without a scope, or with a scope missing from the table, is a problem.
 */
export interface ProcedureAccess {
  path: string;
  type: 'query' | 'mutation' | 'subscription';
  scope: Scope | null;
  roles: readonly Role[];
}

export function procedureAccess(router: AnyRouter): { procedures: ProcedureAccess[]; problems: string[] } {
  const procedures: ProcedureAccess[] = [];
  const problems: string[] = [];
  const entries = Object.entries(router._def.procedures as Record<string, { _def: { type: ProcedureAccess['type']; meta?: { scope?: unknown } } }>);
  for (const [path, procedure] of entries) {
    const declared = procedure._def.meta?.scope;
    if (declared === undefined) problems.push(`${path}: declares no scope (add .meta({ scope }))`);
    else if (!isScope(declared)) problems.push(`${path}: scope "${String(declared)}" has no role mapping in server/auth/permissions.ts`);
    const scope = isScope(declared) ? declared : null;
    procedures.push({ path, type: procedure._def.type, scope, roles: scope ? SCOPE_ROLES[scope] : [] });
  }
  return { procedures: procedures.sort((a, b) => a.path.localeCompare(b.path)), problems };
}
