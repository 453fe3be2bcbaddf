import { getApiTokenByHash, getApiTokenById, insertApiToken, listApiTokens, revokeApiToken, type ApiTokenRecord } from '../../db/repositories/apiTokens';
import { recordActivity } from '../../db/repositories/sessions';
import { TtlCache } from './cache';
import { ACTIVITY_WRITE_INTERVAL_NS, type AuthDeps } from './deps';
import type { Principal } from './principal';
import type { Role } from './roles';
import { newApiToken, newPublicId, sha256Hex, TOKEN_PATTERN } from './secrets';

/**
 * API tokens for scripts: `soc_pat_` + 43 base64url characters (256 random bits), sent as
 * `Authorization: Bearer …`. Shown once at creation; storage holds only the SHA-256. Each token is
 * bound to a role, expires (at most AUTH_TOKEN_MAX_DAYS), and can be revoked.
 */

interface CachedToken {
  fetchedAtNs: bigint;
  token: ApiTokenRecord | null;
  lastWrittenNs: bigint;
}

const GLOBAL_KEY = Symbol.for('soc.cockpit.tokenCache');
type GlobalWithCache = typeof globalThis & { [GLOBAL_KEY]?: TtlCache<CachedToken> };
function cache(): TtlCache<CachedToken> {
  const g = globalThis as GlobalWithCache;
  return (g[GLOBAL_KEY] ??= new TtlCache<CachedToken>());
}

const NS_PER_DAY = 86_400_000_000_000n;

export interface CreatedToken {
  /** The secret: printed or shown once, never stored. */
  token: string;
  record: ApiTokenRecord;
}

export async function createApiToken(
  deps: AuthDeps,
  input: { name: string; role: Role; expiresInDays: number; createdBy: string },
): Promise<CreatedToken> {
  if (!Number.isInteger(input.expiresInDays) || input.expiresInDays < 1 || input.expiresInDays > deps.config.tokenMaxDays) {
    throw new RangeError(`a token expires after 1 to ${deps.config.tokenMaxDays} days`);
  }
  const token = newApiToken();
  const now = deps.now();
  const record: ApiTokenRecord = {
    tokenHash: sha256Hex(token),
    id: newPublicId(),
    name: input.name,
    role: input.role,
    createdAtNs: now.toString(),
    createdBy: input.createdBy,
    expiresAtNs: (now + BigInt(input.expiresInDays) * NS_PER_DAY).toString(),
    revokedAtNs: null,
    revokedBy: '',
    lastUsedNs: '0',
  };
  await insertApiToken(deps.db, record);
  return { token, record };
}

export type TokenCheck =
  | { ok: true; principal: Extract<Principal, { kind: 'token' }> }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

export async function resolveApiToken(deps: AuthDeps, token: string): Promise<TokenCheck> {
  if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'malformed' };
  const tokenHash = sha256Hex(token);
  const now = deps.now();
  let entry = cache().get(tokenHash, now, deps.config.cacheNs);
  if (!entry) {
    const record = await getApiTokenByHash(deps.db, tokenHash);
    const previous = cache().peek(tokenHash);
    const stored = BigInt(record?.lastUsedNs ?? '0');
    entry = { fetchedAtNs: now, token: record, lastWrittenNs: stored > (previous?.lastWrittenNs ?? 0n) ? stored : (previous?.lastWrittenNs ?? 0n) };
    cache().set(tokenHash, entry);
  }
  const record = entry.token;
  if (!record) return { ok: false, reason: 'unknown' };
  if (record.revokedAtNs !== null) return { ok: false, reason: 'revoked' };
  if (now >= BigInt(record.expiresAtNs)) return { ok: false, reason: 'expired' };
  if (now - entry.lastWrittenNs >= ACTIVITY_WRITE_INTERVAL_NS) {
    entry.lastWrittenNs = now;
    await recordActivity(deps.db, 'token', tokenHash, now);
  }
  return { ok: true, principal: { kind: 'token', id: record.id, name: record.name, role: record.role, expiresAtNs: record.expiresAtNs } };
}

/** Revokes a token by its public id. Returns the token, or null when there is no such token. */
export async function revokeApiTokenById(deps: AuthDeps, id: string, by: string): Promise<{ record: ApiTokenRecord; alreadyRevoked: boolean } | null> {
  const record = await getApiTokenById(deps.db, id);
  if (!record) return null;
  if (record.revokedAtNs !== null) return { record, alreadyRevoked: true };
  await revokeApiToken(deps.db, record, deps.now(), by);
  cache().delete(record.tokenHash);
  return { record, alreadyRevoked: false };
}

export async function listTokens(deps: AuthDeps): Promise<ApiTokenRecord[]> {
  return listApiTokens(deps.db);
}

/** The token as lists show it: never its hash. */
export function toTokenView(record: ApiTokenRecord, nowNs: bigint) {
  const state = record.revokedAtNs !== null ? 'revoked' : nowNs >= BigInt(record.expiresAtNs) ? 'expired' : 'active';
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    state: state as 'active' | 'expired' | 'revoked',
    createdAtNs: record.createdAtNs,
    createdBy: record.createdBy,
    expiresAtNs: record.expiresAtNs,
    revokedAtNs: record.revokedAtNs,
    revokedBy: record.revokedBy,
    lastUsedNs: record.lastUsedNs === '0' ? null : record.lastUsedNs,
  };
}

export function clearTokenCache(): void {
  cache().clear();
}
