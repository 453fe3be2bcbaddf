import { atLeast, ROLES, type Role } from './roles';

/**
 * THE scope → role table. A scope is "resource:action"; every tRPC procedure declares exactly one
 * (`.meta({ scope })`) and every page checks one. A new feature adds its scope here, in one line;
 * a scope missing from this table is a type error where a procedure names it, and a procedure
 * without a scope fails the access-matrix test (server/auth/access-matrix.servertest.ts).
 */
export const SCOPE_ROLES = {
  // Reading what the sensors saw.
  'processes:read': atLeast('viewer'),
  'sensors:read': atLeast('viewer'),
  'indicators:read': atLeast('viewer'),
  'investigations:read': atLeast('viewer'),
  'zooms:read': atLeast('viewer'),
  'baselines:read': atLeast('viewer'),
  // Triage.
  'investigations:write': atLeast('analyst'),
  'verdicts:write': atLeast('analyst'),
  'exports:create': atLeast('analyst'),
  // Baselines: import profiles, allow entries (audited).
  'baselines:write': atLeast('analyst'),
  // Probes on nodes: ordering and cancelling zoom-ins.
  'zooms:order': atLeast('responder'),
  // Administration.
  'sensors:admin': atLeast('admin'),
  'users:admin': atLeast('admin'),
  'tokens:admin': atLeast('admin'),
  'audit:read': atLeast('admin'),
  // Cockpit settings that change what analyses say (the service map: reload).
  'settings:admin': atLeast('admin'),
  // One's own account (who am I, my sessions, sign out everywhere): every signed-in role.
  'account:read': atLeast('viewer'),
  'account:write': atLeast('viewer'),
} as const satisfies Record<string, readonly Role[]>;

export type Scope = keyof typeof SCOPE_ROLES;
export const SCOPES = Object.keys(SCOPE_ROLES) as Scope[];

/** "resource:action", lower case. */
export const SCOPE_PATTERN = /^[a-z]+:[a-z]+$/;

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && Object.hasOwn(SCOPE_ROLES, value);
}

export function roleHasScope(role: Role, scope: Scope): boolean {
  return (SCOPE_ROLES[scope] as readonly Role[]).includes(role);
}

/** The scopes a role grants (shown on the account page and in `auth.me`). */
export function scopesOf(role: Role): Scope[] {
  return SCOPES.filter((scope) => roleHasScope(role, scope));
}

/** The least privileged role that holds the scope (for messages: "needs the responder role"). */
export function minimumRoleFor(scope: Scope): Role {
  return ROLES.find((role) => roleHasScope(role, scope)) ?? 'admin';
}
