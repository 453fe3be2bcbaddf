import { getSession, insertSession, listOpenSessions, recordActivity, revokeSessions, type SessionRecord } from '../../db/repositories/sessions';
import { getUserById, type UserRecord } from '../../db/repositories/users';
import { TtlCache } from './cache';
import { ACTIVITY_WRITE_INTERVAL_NS, type AuthDeps } from './deps';
import type { Principal } from './principal';
import { newSessionId, SESSION_ID_PATTERN, sha256Hex } from './secrets';

/**
 * Browser sessions. The cookie carries a random 256-bit id; storage holds only its SHA-256.
 * A session ends at the first of: its absolute end (created + AUTH_SESSION_MAX_HOURS), idleness
 * (no request for AUTH_SESSION_IDLE_MINUTES), sign-out, sign-out everywhere / an admin ending the
 * user's sessions (the user's `sessions_valid_after`), the user being disabled.
 *
 * Last use is kept in memory on every request and written to storage at most once a minute, so
 * the idle timeout is exact within a process and at most a minute generous across restarts.
 */

interface CachedSession {
  fetchedAtNs: bigint;
  session: SessionRecord;
  user: UserRecord | null;
  /** Last request seen (memory). */
  lastSeenNs: bigint;
  /** Last use written to storage. */
  lastWrittenNs: bigint;
}

const GLOBAL_KEY = Symbol.for('soc.cockpit.sessionCache');
type GlobalWithCache = typeof globalThis & { [GLOBAL_KEY]?: TtlCache<CachedSession> };
function cache(): TtlCache<CachedSession> {
  const g = globalThis as GlobalWithCache;
  return (g[GLOBAL_KEY] ??= new TtlCache<CachedSession>());
}

export interface NewSession {
  /** The secret for the cookie; never stored, never logged. */
  id: string;
  idHash: string;
  expiresAtNs: bigint;
}

export async function createSession(
  deps: AuthDeps,
  user: UserRecord,
  context: { method: 'password' | 'oidc'; source: string; userAgent: string },
): Promise<NewSession> {
  const id = newSessionId();
  const idHash = sha256Hex(id);
  const now = deps.now();
  const expiresAtNs = now + deps.config.sessionMaxNs;
  await insertSession(deps.db, {
    idHash,
    userId: user.id,
    method: context.method,
    createdAtNs: now.toString(),
    expiresAtNs: expiresAtNs.toString(),
    sourceAddress: context.source.slice(0, 256),
    userAgent: context.userAgent.slice(0, 512),
  });
  return { id, idHash, expiresAtNs };
}

export type SessionCheck =
  | { ok: true; principal: Extract<Principal, { kind: 'user' }> }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' | 'idle' | 'user_disabled' | 'signed_out_everywhere' };

/** Validates a session id from a cookie and records its use. */
export async function resolveSession(deps: AuthDeps, sessionId: string): Promise<SessionCheck> {
  if (!SESSION_ID_PATTERN.test(sessionId)) return { ok: false, reason: 'malformed' };
  const idHash = sha256Hex(sessionId);
  const now = deps.now();
  let entry = cache().get(idHash, now, deps.config.cacheNs);
  if (!entry) {
    const session = await getSession(deps.db, idHash);
    if (!session) return { ok: false, reason: 'unknown' };
    const user = await getUserById(deps.db, session.userId);
    const previous = cache().peek(idHash);
    const stored = BigInt(session.lastSeenNs);
    const created = BigInt(session.createdAtNs);
    entry = {
      fetchedAtNs: now,
      session,
      user,
      lastSeenNs: [stored, created, previous?.lastSeenNs ?? 0n].reduce((a, b) => (a > b ? a : b)),
      lastWrittenNs: [stored, created, previous?.lastWrittenNs ?? 0n].reduce((a, b) => (a > b ? a : b)),
    };
    cache().set(idHash, entry);
  }
  const { session, user } = entry;
  if (session.revokedAtNs !== null) return { ok: false, reason: 'revoked' };
  if (now >= BigInt(session.expiresAtNs)) return { ok: false, reason: 'expired' };
  if (now - entry.lastSeenNs > deps.config.sessionIdleNs) return { ok: false, reason: 'idle' };
  if (!user || user.disabled) return { ok: false, reason: 'user_disabled' };
  if (BigInt(session.createdAtNs) <= BigInt(user.sessionsValidAfterNs)) return { ok: false, reason: 'signed_out_everywhere' };

  if (now > entry.lastSeenNs) entry.lastSeenNs = now;
  if (now - entry.lastWrittenNs >= ACTIVITY_WRITE_INTERVAL_NS) {
    entry.lastWrittenNs = now;
    await recordActivity(deps.db, 'session', idHash, now);
  }
  return {
    ok: true,
    principal: {
      kind: 'user',
      id: user.id,
      name: user.email,
      role: user.role,
      session: { idHash, createdAtNs: session.createdAtNs, expiresAtNs: session.expiresAtNs, method: session.method },
    },
  };
}

/** Ends one session (sign-out). Unknown or already ended: nothing to do. */
export async function endSession(deps: AuthDeps, idHash: string): Promise<boolean> {
  const session = await getSession(deps.db, idHash);
  cache().delete(idHash);
  if (!session || session.revokedAtNs !== null) return false;
  await revokeSessions(deps.db, [session], deps.now());
  cache().delete(idHash);
  return true;
}

/** Drops cached sessions of a user (after their sessions were ended, their role changed, …). */
export function forgetUserSessions(userId: string): void {
  cache().deleteWhere((entry) => entry.session.userId === userId);
}

/** A session as the account and user pages show it (never its id or hash). */
export function toSessionView(s: SessionRecord) {
  return {
    method: s.method,
    createdAtNs: s.createdAtNs,
    expiresAtNs: s.expiresAtNs,
    lastSeenNs: s.lastSeenNs === '0' ? s.createdAtNs : s.lastSeenNs,
    sourceAddress: s.sourceAddress,
    userAgent: s.userAgent,
  };
}

export async function openSessionsOf(deps: AuthDeps, userId: string): Promise<SessionRecord[]> {
  return listOpenSessions(deps.db, userId, deps.now());
}

/** For tests: forget every cached session. */
export function clearSessionCache(): void {
  cache().clear();
}
