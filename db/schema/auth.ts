import type { TableDef } from './types';

/**
 * Tables of authentication, authorisation and audit (see docs/SECURITY.md).
 *
 * ClickHouse is append-oriented, so mutable entities (users, sessions, API tokens) are
 * ReplacingMergeTree tables keyed by their id with a version column: a change is a new row with a
 * higher version, and reads take the newest row per key (FINAL). Each of them is written only on
 * rare, deliberate changes (creation, role change, revocation). What changes on every request —
 * when a session or token was last used — lives in `auth_activity`, written at most once a minute
 * per session or token, so a "touch" can never race with (and undo) a revocation.
 *
 * The audit log is a plain MergeTree: rows are only ever appended.
 */

const NS = "DateTime64(9, 'UTC')";
const ROLE = "Enum8('viewer' = 1, 'analyst' = 2, 'responder' = 3, 'admin' = 4)";

/** Local and single-sign-on accounts. */
export const authUsers: TableDef = {
  name: 'auth_users',
  comment: 'Cockpit accounts (local and OIDC); the newest version of each id is current',
  columns: [
    { name: 'id', type: 'String' },
    { name: 'email', type: 'String', comment: 'lower-case; the sign-in name' },
    { name: 'display_name', type: 'String' },
    { name: 'role', type: ROLE },
    { name: 'disabled', type: 'Bool' },
    { name: 'password_hash', type: 'String', comment: "scrypt$N$r$p$salt$hash, '' for SSO-only accounts" },
    { name: 'oidc_issuer', type: 'String' },
    { name: 'oidc_subject', type: 'String' },
    { name: 'sessions_valid_after', type: NS, comment: 'sessions created before this are ended (sign-out everywhere)' },
    { name: 'created_at', type: NS },
    { name: 'created_by', type: 'String' },
    { name: 'updated_at', type: NS },
    { name: 'updated_by', type: 'String' },
    { name: 'version', type: 'UInt64', comment: 'nanoseconds of the change; the newest row wins' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'version',
  orderBy: 'id',
  shardingKey: 'cityHash64(id)',
};

/** Browser sessions. Only a SHA-256 of the session id is stored. */
export const authSessions: TableDef = {
  name: 'auth_sessions',
  comment: 'Browser sessions by SHA-256 of the session id; written at creation and at revocation only',
  columns: [
    { name: 'id_hash', type: 'String' },
    { name: 'user_id', type: 'String' },
    { name: 'method', type: "Enum8('password' = 1, 'oidc' = 2)" },
    { name: 'created_at', type: NS },
    { name: 'expires_at', type: NS, comment: 'absolute end, whatever the activity' },
    { name: 'revoked_at', type: NS, comment: 'the epoch (0) while not revoked' },
    { name: 'source_address', type: 'String' },
    { name: 'user_agent', type: 'String' },
    { name: 'version', type: 'UInt64' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'version',
  orderBy: 'id_hash',
  ttl: 'toDateTime(expires_at) + INTERVAL 30 DAY',
  shardingKey: 'cityHash64(id_hash)',
};

/** API tokens for scripts. Only a SHA-256 of the token is stored. */
export const authApiTokens: TableDef = {
  name: 'auth_api_tokens',
  comment: 'API tokens by SHA-256 of the token; written at creation and at revocation only',
  columns: [
    { name: 'token_hash', type: 'String' },
    { name: 'id', type: 'String', comment: 'public id, shown in lists and the audit log' },
    { name: 'name', type: 'String' },
    { name: 'role', type: ROLE },
    { name: 'created_at', type: NS },
    { name: 'created_by', type: 'String' },
    { name: 'expires_at', type: NS },
    { name: 'revoked_at', type: NS, comment: 'the epoch (0) while not revoked' },
    { name: 'revoked_by', type: 'String' },
    { name: 'version', type: 'UInt64' },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'version',
  orderBy: 'token_hash',
  shardingKey: 'cityHash64(token_hash)',
};

/** When a session or token was last used: at most one row a minute each. */
export const authActivity: TableDef = {
  name: 'auth_activity',
  comment: 'Last use of sessions and API tokens (coarse: written at most once a minute each)',
  columns: [
    { name: 'kind', type: "Enum8('session' = 1, 'token' = 2)" },
    { name: 'key', type: 'String', comment: 'session id hash or token hash' },
    { name: 'last_seen', type: NS },
  ],
  engine: 'ReplacingMergeTree',
  versionColumn: 'last_seen',
  orderBy: '(kind, key)',
  ttl: 'toDateTime(last_seen) + INTERVAL 400 DAY',
  shardingKey: 'cityHash64(key)',
};

/** Sign-in attempts, per account and per source address: the input of backoff and lockout. */
export const authLoginAttempts: TableDef = {
  name: 'auth_login_attempts',
  comment: "Sign-in attempts by subject ('account:<email>' or 'source:<address>'), kept two days",
  columns: [
    { name: 'subject', type: 'String' },
    { name: 'ts', type: NS },
    { name: 'ok', type: 'Bool' },
  ],
  engine: 'MergeTree',
  orderBy: '(subject, ts)',
  ttl: 'toDateTime(ts) + INTERVAL 2 DAY',
  shardingKey: 'cityHash64(subject)',
};

/** The audit log: append-only evidence of who did what, when, from where, and how it ended. */
export const auditLog: TableDef = {
  name: 'audit_log',
  comment: 'Append-only audit log: sign-ins, denials, zoom orders, verdicts, exports, token and user changes',
  columns: [
    { name: 'ts', type: NS },
    { name: 'event_id', type: 'String' },
    { name: 'action', type: 'LowCardinality(String)', comment: 'e.g. auth.sign_in, authz.denied, tokens.create' },
    { name: 'outcome', type: "Enum8('success' = 1, 'failure' = 2, 'denied' = 3)" },
    { name: 'actor_type', type: "Enum8('anonymous' = 0, 'user' = 1, 'token' = 2, 'cli' = 3, 'system' = 4)" },
    { name: 'actor_id', type: 'String' },
    { name: 'actor_name', type: 'String', comment: 'email, token name, or the operating-system user of the CLI' },
    { name: 'actor_role', type: 'LowCardinality(String)' },
    { name: 'source_address', type: 'String' },
    { name: 'target_type', type: 'LowCardinality(String)' },
    { name: 'target_id', type: 'String' },
    { name: 'detail', type: 'String', comment: 'JSON object with action-specific fields' },
  ],
  engine: 'MergeTree',
  partitionBy: 'toYYYYMM(ts)',
  orderBy: '(ts, event_id)',
  // Each event carries its id as the insert's dedup token: a retried insert is stored once.
  settings: { non_replicated_deduplication_window: 1000 },
  shardingKey: 'cityHash64(event_id)',
};

export const AUTH_TABLES: readonly TableDef[] = [authUsers, authSessions, authApiTokens, authActivity, authLoginAttempts, auditLog];
