import { z } from 'zod';
import { ROLES, type Role } from './roles';

/**
 * Authentication settings from the environment, validated once with zod (create-t3-app's env.ts
 * pattern), read lazily: `next build` imports modules without a runtime environment.
 * Every variable is optional; the defaults are the documented policy (docs/SECURITY.md).
 */
const intIn = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).optional().transform((v) => v ?? fallback);

const authEnvSchema = z.object({
  COCKPIT_ORIGIN: z
    .url()
    .optional()
    .refine((v) => v === undefined || new URL(v).origin === v.replace(/\/$/, ''), 'an origin: scheme://host[:port], no path'),
  AUTH_SESSION_IDLE_MINUTES: intIn(1, 24 * 60, 30),
  AUTH_SESSION_MAX_HOURS: intIn(1, 24 * 30, 12),
  AUTH_CACHE_SECONDS: intIn(0, 30, 5),
  AUTH_SCRYPT_LOG_N: intIn(14, 20, 17),
  AUTH_LOCKOUT_THRESHOLD: intIn(3, 100, 10),
  AUTH_LOCKOUT_MINUTES: intIn(1, 24 * 60, 15),
  AUTH_TOKEN_MAX_DAYS: intIn(1, 3650, 365),
  AUTH_ADMIN_SOCKET: z.string().min(1).optional(),
  OIDC_ISSUER: z.url().optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_SCOPES: z.string().regex(/^[\x21-\x7e ]+$/).optional(),
  OIDC_NAME: z.string().max(64).optional(),
  OIDC_ROLE_CLAIM: z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/).optional(),
  OIDC_ROLE_MAP: z.string().optional(),
  OIDC_DEFAULT_ROLE: z.enum([...ROLES, 'none']).optional(),
});

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  /** Label of the sign-in button. */
  name: string;
  /** Claim holding group or role names (a string or an array of strings). */
  roleClaim: string;
  /** Claim value → role; the highest mapped role wins. */
  roleMap: ReadonlyMap<string, Role>;
  /** Role of a new SSO user when no mapped value is present; null refuses them. */
  defaultRole: Role | null;
}

export interface AuthConfig {
  /** The cockpit's public origin; when unset, the request's own Host is taken as the origin. */
  origin: string | null;
  sessionIdleNs: bigint;
  sessionMaxNs: bigint;
  /** How long a validated session or token is trusted from memory (the revocation delay bound). */
  cacheNs: bigint;
  scryptLogN: number;
  lockoutThreshold: number;
  lockoutNs: bigint;
  tokenMaxDays: number;
  /** Unix socket of the admin CLI, or null for the default next to the embedded data directory. */
  adminSocket: string | null;
  oidc: OidcConfig | null;
}

const NS_PER_MINUTE = 60_000_000_000n;

function parseRoleMap(text: string | undefined): Map<string, Role> {
  const map = new Map<string, Role>();
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const value = entry.slice(0, at).trim();
    const role = entry.slice(at + 1).trim();
    if (at <= 0 || !(ROLES as readonly string[]).includes(role)) {
      throw new Error(`invalid OIDC_ROLE_MAP entry "${entry}": expected <claim value>=<${ROLES.join('|')}>`);
    }
    map.set(value, role as Role);
  }
  return map;
}

export function authConfigFromEnv(env: Record<string, string | undefined> = process.env): AuthConfig {
  const parsed = authEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid authentication configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  const oidcParts = [e.OIDC_ISSUER, e.OIDC_CLIENT_ID, e.OIDC_CLIENT_SECRET];
  if (oidcParts.some(Boolean) && !oidcParts.every(Boolean)) {
    throw new Error('OIDC needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET together');
  }
  return {
    origin: e.COCKPIT_ORIGIN ? new URL(e.COCKPIT_ORIGIN).origin : null,
    sessionIdleNs: BigInt(e.AUTH_SESSION_IDLE_MINUTES) * NS_PER_MINUTE,
    sessionMaxNs: BigInt(e.AUTH_SESSION_MAX_HOURS) * 60n * NS_PER_MINUTE,
    cacheNs: BigInt(e.AUTH_CACHE_SECONDS) * 1_000_000_000n,
    scryptLogN: e.AUTH_SCRYPT_LOG_N,
    lockoutThreshold: e.AUTH_LOCKOUT_THRESHOLD,
    lockoutNs: BigInt(e.AUTH_LOCKOUT_MINUTES) * NS_PER_MINUTE,
    tokenMaxDays: e.AUTH_TOKEN_MAX_DAYS,
    adminSocket: e.AUTH_ADMIN_SOCKET ?? null,
    oidc:
      e.OIDC_ISSUER && e.OIDC_CLIENT_ID && e.OIDC_CLIENT_SECRET
        ? {
            issuer: e.OIDC_ISSUER.replace(/\/$/, ''),
            clientId: e.OIDC_CLIENT_ID,
            clientSecret: e.OIDC_CLIENT_SECRET,
            scopes: e.OIDC_SCOPES ?? 'openid email profile',
            name: e.OIDC_NAME ?? 'single sign-on',
            roleClaim: e.OIDC_ROLE_CLAIM ?? 'groups',
            roleMap: parseRoleMap(e.OIDC_ROLE_MAP),
            defaultRole: e.OIDC_DEFAULT_ROLE === 'none' ? null : (e.OIDC_DEFAULT_ROLE ?? 'viewer'),
          }
        : null,
  };
}

const GLOBAL_KEY = Symbol.for('soc.cockpit.authConfig');
type GlobalWithConfig = typeof globalThis & { [GLOBAL_KEY]?: AuthConfig };

/** The process's configuration, parsed on first use. */
export function authConfig(): AuthConfig {
  const g = globalThis as GlobalWithConfig;
  g[GLOBAL_KEY] ??= authConfigFromEnv();
  return g[GLOBAL_KEY];
}
