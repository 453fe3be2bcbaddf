import { z } from 'zod';
import type { RoleChoice } from '../../components/admin/roles';

/**
 * Roles, from least to most privileged. Each role can do everything the ones before it can
 * (see the scope table in permissions.ts, which spells the sets out explicitly).
 *   viewer    read everything an analyst sees
 *   analyst   + triage: notes, verdicts, exports
 *   responder + orders and cancels zoom-ins (probes on nodes)
 *   admin     + users, sensors, API tokens, the audit log
 */
export const ROLES = ['viewer', 'analyst', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const roleSchema = z.enum(ROLES, { error: `a role: ${ROLES.join(', ')}` });

/** Every role at or above `role` (for the scope table: `atLeast('responder')`). */
export function atLeast(role: Role): readonly Role[] {
  return ROLES.slice(ROLES.indexOf(role));
}

// The admin pages' role pickers (components/admin/roles.ts) must list exactly these roles.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const ROLE_CHOICES_MATCH: Same<RoleChoice, Role> = true;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
