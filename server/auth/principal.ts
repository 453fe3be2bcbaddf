import type { Role } from './roles';

/** Who is calling, once authenticated: a signed-in user (session) or an API token. */
export type Principal =
  | {
      kind: 'user';
      /** User id. */
      id: string;
      /** Email. */
      name: string;
      role: Role;
      session: { idHash: string; createdAtNs: string; expiresAtNs: string; method: 'password' | 'oidc' };
    }
  | {
      kind: 'token';
      /** Token id (public). */
      id: string;
      /** Token name. */
      name: string;
      role: Role;
      expiresAtNs: string;
    };

/** Why a request is not authenticated. `missing`: no credentials at all. */
export type AuthFailure = 'missing' | 'session_invalid' | 'token_invalid';

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; failure: AuthFailure };

export const AUTH_FAILURE_MESSAGES: Record<AuthFailure, string> = {
  missing: 'authentication required: sign in, or send an API token as "Authorization: Bearer soc_pat_…"',
  session_invalid: 'your session has ended (expired, signed out or revoked): sign in again',
  token_invalid: 'the API token is invalid, expired or revoked',
};
