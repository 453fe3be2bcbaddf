import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { authActivity, authSessions } from '../schema/auth';
import { nsToClickHouse } from '../time';

/** Browser sessions (auth_sessions) and last use of sessions and tokens (auth_activity). */

export interface SessionRecord {
  idHash: string;
  userId: string;
  method: 'password' | 'oidc';
  createdAtNs: string;
  expiresAtNs: string;
  revokedAtNs: string | null;
  sourceAddress: string;
  userAgent: string;
  /** Last recorded use ('0' when never touched after creation). */
  lastSeenNs: string;
}

const SESSION_COLUMNS = `
  s.id_hash AS idHash,
  s.user_id AS userId,
  toString(s.method) AS method,
  toString(toUnixTimestamp64Nano(s.created_at)) AS createdAtNs,
  toString(toUnixTimestamp64Nano(s.expires_at)) AS expiresAtNs,
  toString(toUnixTimestamp64Nano(s.revoked_at)) AS revokedAtNs,
  s.source_address AS sourceAddress,
  s.user_agent AS userAgent`;

function sessionRow(session: Omit<SessionRecord, 'lastSeenNs'>, versionNs: bigint) {
  return {
    id_hash: session.idHash,
    user_id: session.userId,
    method: session.method,
    created_at: session.createdAtNs,
    expires_at: session.expiresAtNs,
    revoked_at: session.revokedAtNs ?? '0',
    source_address: session.sourceAddress,
    user_agent: session.userAgent,
    version: versionNs.toString(),
  };
}

export async function insertSession(db: Db, session: Omit<SessionRecord, 'lastSeenNs' | 'revokedAtNs'>): Promise<void> {
  await insertRows(db, {
    table: authSessions,
    rows: [sessionRow({ ...session, revokedAtNs: null }, BigInt(session.createdAtNs))],
    tag: 'auth.sessions.create',
  });
}

/** Marks sessions revoked (a new version of each row). */
export async function revokeSessions(db: Db, sessions: readonly Omit<SessionRecord, 'lastSeenNs'>[], atNs: bigint): Promise<void> {
  await insertRows(db, {
    table: authSessions,
    rows: sessions.map((s) => sessionRow({ ...s, revokedAtNs: atNs.toString() }, atNs)),
    tag: 'auth.sessions.revoke',
  });
}

/** Revocation is stored as the epoch while not revoked (no Nullable columns in the encoders). */
function fromRow(row: SessionRecord): SessionRecord {
  return { ...row, revokedAtNs: row.revokedAtNs === '0' ? null : row.revokedAtNs };
}

export async function getSession(db: Db, idHash: string): Promise<SessionRecord | null> {
  const rows = await selectRows<SessionRecord>(db, {
    sql: `SELECT ${SESSION_COLUMNS},
            toString(toUnixTimestamp64Nano((SELECT max(last_seen) FROM auth_activity
              WHERE kind = 'session' AND key = {idHash:String}))) AS lastSeenNs
          FROM auth_sessions AS s FINAL
          WHERE s.id_hash = {idHash:String}
          LIMIT 1`,
    params: { idHash },
    tag: 'auth.sessions.get',
  });
  return rows[0] ? fromRow(rows[0]) : null;
}

/** Sessions of a user that are neither revoked nor past their absolute end, newest first. */
export async function listOpenSessions(db: Db, userId: string, nowNs: bigint, limit = 200): Promise<SessionRecord[]> {
  const rows = await selectRows<SessionRecord>(db, {
    sql: `SELECT ${SESSION_COLUMNS},
            toString(toUnixTimestamp64Nano(ifNull(a.last_seen, toDateTime64(0, 9, 'UTC')))) AS lastSeenNs
          FROM auth_sessions AS s FINAL
          LEFT JOIN (
            SELECT key, max(last_seen) AS last_seen FROM auth_activity WHERE kind = 'session' GROUP BY key
          ) AS a ON a.key = s.id_hash
          WHERE s.user_id = {userId:String} AND s.revoked_at = toDateTime64(0, 9, 'UTC') AND s.expires_at > {now:DateTime64(9, 'UTC')}
          ORDER BY s.created_at DESC
          LIMIT {limit:UInt32}`,
    params: { userId, now: nsToClickHouse(nowNs), limit },
    tag: 'auth.sessions.list_open',
  });
  return rows.map(fromRow);
}

/** Records the last use of a session or token (callers write this at most once a minute each). */
export async function recordActivity(db: Db, kind: 'session' | 'token', key: string, atNs: bigint): Promise<void> {
  await insertRows(db, {
    table: authActivity,
    rows: [{ kind, key, last_seen: atNs.toString() }],
    tag: 'auth.activity.record',
  });
}
