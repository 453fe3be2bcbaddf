import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { authApiTokens } from '../schema/auth';
import type { UserRole } from './users';

/** API tokens (auth_api_tokens). Only the SHA-256 of a token is ever stored. */

export interface ApiTokenRecord {
  tokenHash: string;
  id: string;
  name: string;
  role: UserRole;
  createdAtNs: string;
  createdBy: string;
  expiresAtNs: string;
  revokedAtNs: string | null;
  revokedBy: string;
  lastUsedNs: string;
}

const TOKEN_COLUMNS = `
  t.token_hash AS tokenHash,
  t.id AS id,
  t.name AS name,
  toString(t.role) AS role,
  toString(toUnixTimestamp64Nano(t.created_at)) AS createdAtNs,
  t.created_by AS createdBy,
  toString(toUnixTimestamp64Nano(t.expires_at)) AS expiresAtNs,
  toString(toUnixTimestamp64Nano(t.revoked_at)) AS revokedAtNs,
  t.revoked_by AS revokedBy`;

function tokenRow(token: Omit<ApiTokenRecord, 'lastUsedNs'>, versionNs: bigint) {
  return {
    token_hash: token.tokenHash,
    id: token.id,
    name: token.name,
    role: token.role,
    created_at: token.createdAtNs,
    created_by: token.createdBy,
    expires_at: token.expiresAtNs,
    revoked_at: token.revokedAtNs ?? '0',
    revoked_by: token.revokedBy,
    version: versionNs.toString(),
  };
}

export async function insertApiToken(db: Db, token: Omit<ApiTokenRecord, 'lastUsedNs' | 'revokedAtNs' | 'revokedBy'>): Promise<void> {
  await insertRows(db, {
    table: authApiTokens,
    rows: [tokenRow({ ...token, revokedAtNs: null, revokedBy: '' }, BigInt(token.createdAtNs))],
    tag: 'auth.tokens.create',
  });
}

export async function revokeApiToken(db: Db, token: Omit<ApiTokenRecord, 'lastUsedNs'>, atNs: bigint, by: string): Promise<void> {
  await insertRows(db, {
    table: authApiTokens,
    rows: [tokenRow({ ...token, revokedAtNs: atNs.toString(), revokedBy: by }, atNs)],
    tag: 'auth.tokens.revoke',
  });
}

const LAST_USED = `
  toString(toUnixTimestamp64Nano(ifNull(a.last_seen, toDateTime64(0, 9, 'UTC')))) AS lastUsedNs
  FROM auth_api_tokens AS t FINAL
  LEFT JOIN (
    SELECT key, max(last_seen) AS last_seen FROM auth_activity WHERE kind = 'token' GROUP BY key
  ) AS a ON a.key = t.token_hash`;

/** Revocation is stored as the epoch while not revoked (no Nullable columns in the encoders). */
function fromRow(row: ApiTokenRecord): ApiTokenRecord {
  return { ...row, revokedAtNs: row.revokedAtNs === '0' ? null : row.revokedAtNs };
}

export async function getApiTokenByHash(db: Db, tokenHash: string): Promise<ApiTokenRecord | null> {
  const rows = await selectRows<ApiTokenRecord>(db, {
    sql: `SELECT ${TOKEN_COLUMNS}, ${LAST_USED} WHERE t.token_hash = {tokenHash:String} LIMIT 1`,
    params: { tokenHash },
    tag: 'auth.tokens.by_hash',
  });
  return rows[0] ? fromRow(rows[0]) : null;
}

export async function getApiTokenById(db: Db, id: string): Promise<ApiTokenRecord | null> {
  const rows = await selectRows<ApiTokenRecord>(db, {
    sql: `SELECT ${TOKEN_COLUMNS}, ${LAST_USED} WHERE t.id = {id:String} ORDER BY t.created_at LIMIT 1`,
    params: { id },
    tag: 'auth.tokens.by_id',
  });
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Every token, newest first (revoked and expired ones too: the list is the record). */
export async function listApiTokens(db: Db, limit = 10_000): Promise<ApiTokenRecord[]> {
  const rows = await selectRows<ApiTokenRecord>(db, {
    sql: `SELECT ${TOKEN_COLUMNS}, ${LAST_USED} ORDER BY t.created_at DESC LIMIT {limit:UInt32}`,
    params: { limit },
    tag: 'auth.tokens.list',
  });
  return rows.map(fromRow);
}
