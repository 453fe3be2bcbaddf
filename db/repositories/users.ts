import type { Db } from '../client';
import { insertRows, selectRows } from '../query';
import { nsToClickHouse } from '../time';
import { authLoginAttempts, authUsers } from '../schema/auth';

/** Accounts (auth_users) and sign-in attempts (auth_login_attempts). See db/schema/auth.ts. */

export type UserRole = 'viewer' | 'analyst' | 'responder' | 'admin';

export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  role: UserRole;
  disabled: boolean;
  /** '' for accounts that sign in only through OIDC. */
  passwordHash: string;
  oidcIssuer: string;
  oidcSubject: string;
  /** Sessions created before this instant are ended ("sign out everywhere"). */
  sessionsValidAfterNs: string;
  createdAtNs: string;
  createdBy: string;
  updatedAtNs: string;
  updatedBy: string;
}

const USER_COLUMNS = `
  id, email,
  display_name AS displayName,
  toString(role) AS role,
  disabled,
  password_hash AS passwordHash,
  oidc_issuer AS oidcIssuer,
  oidc_subject AS oidcSubject,
  toString(toUnixTimestamp64Nano(sessions_valid_after)) AS sessionsValidAfterNs,
  toString(toUnixTimestamp64Nano(created_at)) AS createdAtNs,
  created_by AS createdBy,
  toString(toUnixTimestamp64Nano(updated_at)) AS updatedAtNs,
  updated_by AS updatedBy`;

/**
 * Writes the current state of a user (a new version; the newest wins). Lookups below filter only
 * on columns that never change once set (id, email, the OIDC issuer and subject), so reading with
 * FINAL gives the current row whatever order ClickHouse applies FINAL and WHERE in.
 */
export async function putUser(db: Db, user: UserRecord): Promise<void> {
  await insertRows(db, {
    table: authUsers,
    rows: [
      {
        id: user.id,
        email: user.email,
        display_name: user.displayName,
        role: user.role,
        disabled: user.disabled,
        password_hash: user.passwordHash,
        oidc_issuer: user.oidcIssuer,
        oidc_subject: user.oidcSubject,
        sessions_valid_after: user.sessionsValidAfterNs,
        created_at: user.createdAtNs,
        created_by: user.createdBy,
        updated_at: user.updatedAtNs,
        updated_by: user.updatedBy,
        version: user.updatedAtNs,
      },
    ],
    tag: 'auth.users.put',
  });
}

export async function getUserById(db: Db, id: string): Promise<UserRecord | null> {
  const rows = await selectRows<UserRecord>(db, {
    sql: `SELECT ${USER_COLUMNS} FROM auth_users FINAL WHERE id = {id:String} LIMIT 1`,
    params: { id },
    tag: 'auth.users.get',
  });
  return rows[0] ?? null;
}

/** The account with this (lower-case) email; the oldest one if a race ever created two. */
export async function getUserByEmail(db: Db, email: string): Promise<UserRecord | null> {
  const rows = await selectRows<UserRecord>(db, {
    sql: `SELECT ${USER_COLUMNS} FROM auth_users FINAL WHERE email = {email:String} ORDER BY created_at, id LIMIT 1`,
    params: { email },
    tag: 'auth.users.by_email',
  });
  return rows[0] ?? null;
}

export async function getUserByOidcSubject(db: Db, issuer: string, subject: string): Promise<UserRecord | null> {
  const rows = await selectRows<UserRecord>(db, {
    sql: `SELECT ${USER_COLUMNS} FROM auth_users FINAL
          WHERE oidc_issuer = {issuer:String} AND oidc_subject = {subject:String}
          ORDER BY created_at, id LIMIT 1`,
    params: { issuer, subject },
    tag: 'auth.users.by_oidc',
  });
  return rows[0] ?? null;
}

/** Every account, by email (accounts are few: hundreds, not millions). */
export async function listUsers(db: Db, limit = 10_000): Promise<UserRecord[]> {
  return selectRows<UserRecord>(db, {
    sql: `SELECT ${USER_COLUMNS} FROM auth_users FINAL ORDER BY email, created_at LIMIT {limit:UInt32}`,
    params: { limit },
    tag: 'auth.users.list',
  });
}

export async function countAdmins(db: Db): Promise<number> {
  const rows = await selectRows<{ n: string }>(db, {
    sql: `SELECT count() AS n FROM auth_users FINAL WHERE role = 'admin' AND NOT disabled`,
    tag: 'auth.users.count_admins',
  });
  return Number(rows[0]?.n ?? 0);
}

/** One sign-in attempt, recorded under each subject it counts against. */
export async function recordLoginAttempt(db: Db, subjects: readonly string[], tsNs: bigint, ok: boolean): Promise<void> {
  await insertRows(db, {
    table: authLoginAttempts,
    rows: subjects.map((subject) => ({ subject, ts: tsNs.toString(), ok })),
    tag: 'auth.login_attempts.record',
  });
}

export interface LoginAttempt {
  tsNs: string;
  ok: boolean;
}

/** The most recent attempts of a subject since `sinceNs`, newest first. */
export async function recentLoginAttempts(db: Db, subject: string, sinceNs: bigint, limit: number): Promise<LoginAttempt[]> {
  return selectRows<LoginAttempt>(db, {
    sql: `SELECT toString(toUnixTimestamp64Nano(ts)) AS tsNs, ok
          FROM auth_login_attempts
          WHERE subject = {subject:String} AND ts >= {since:DateTime64(9, 'UTC')}
          ORDER BY ts DESC
          LIMIT {limit:UInt32}`,
    params: { subject, since: nsToClickHouse(sinceNs), limit },
    tag: 'auth.login_attempts.recent',
  });
}
