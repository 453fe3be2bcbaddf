import 'server-only';

import { forbidden, redirect } from 'next/navigation';
import { headers } from 'next/headers';
import { cache } from 'react';
import { sourceAddress } from '../http/request';
import { actorOf, auditQuietly } from './audit';
import { authenticateHeaders } from './authenticate';
import { minimumRoleFor, roleHasScope, type Scope } from './permissions';
import type { Principal } from './principal';
import { requestAuthDeps, safeNextPath } from './web';

/** The caller of this page request, resolved once per request. */
const currentPrincipal = cache(async (): Promise<{ principal: Principal | null; path: string; source: string }> => {
  const h = await headers();
  const source = sourceAddress(h);
  const outcome = await authenticateHeaders(h, await requestAuthDeps(), source);
  return { principal: outcome.ok ? outcome.principal : null, path: safeNextPath(h.get('x-soc-path')), source };
});

/**
 * Every page calls this first with the scope it shows. Not signed in (or the session ended):
 * redirect to the login page and back to this URL afterwards. Signed in without the scope: 403
 * (app/forbidden.tsx), audited as a denial. Layouts are not enough: they do not re-run on client
 * navigation, pages do.
 */
export async function requirePage(scope: Scope): Promise<Principal> {
  const { principal, path, source } = await currentPrincipal();
  if (!principal) redirect(path === '/' ? '/login' : `/login?next=${encodeURIComponent(path)}`);
  if (!roleHasScope(principal.role, scope)) {
    const deps = await requestAuthDeps();
    await auditQuietly(deps.db, {
      atNs: deps.now(),
      action: 'authz.denied',
      outcome: 'denied',
      actor: actorOf(principal),
      source,
      target: { type: 'page', id: path },
      detail: { scope, needs: minimumRoleFor(scope) },
    });
    forbidden();
  }
  return principal;
}

/** The signed-in caller, or null (the login page uses it to skip itself). */
export async function optionalPrincipal(): Promise<Principal | null> {
  return (await currentPrincipal()).principal;
}
