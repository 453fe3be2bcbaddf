import {
  countAdmins,
  getUserByEmail,
  getUserById,
  listUsers,
  putUser,
  recentLoginAttempts,
  recordLoginAttempt,
  type UserRecord,
} from '../../db/repositories/users';
import { revokeSessions } from '../../db/repositories/sessions';
import { z } from 'zod';
import { audit, type AuditActor } from './audit';
import type { AuthDeps } from './deps';
import { dummyHash, hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from './passwords';
import type { Role } from './roles';
import { generatePassword, newUserId } from './secrets';
import { createSession, forgetUserSessions, openSessionsOf, type NewSession } from './sessions';
import { accountDecision, ACCOUNT_MEMORY_NS, sourceDecision, SOURCE_LIMIT, type ThrottleDecision } from './throttle';

/** Emails are sign-in names: trimmed, lower-case, NFC; a plain shape check (no RFC 5322 games). */
export const emailSchema = z
  .string()
  .trim()
  .max(254, 'at most 254 characters')
  .transform((v) => v.normalize('NFC').toLowerCase())
  .pipe(z.string().regex(/^[^\s@\x00-\x1f]+@[^\s@\x00-\x1f]+$/, 'an email address'));

export class AccountError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'CONFLICT' | 'BAD_REQUEST' | 'TOO_MANY_REQUESTS',
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

/** A user as lists and pages show it (never the password hash). */
export function toUserView(user: UserRecord) {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    disabled: user.disabled,
    hasPassword: user.passwordHash !== '',
    sso: user.oidcSubject !== '',
    createdAtNs: user.createdAtNs,
    createdBy: user.createdBy,
    updatedAtNs: user.updatedAtNs,
    updatedBy: user.updatedBy,
  };
}
export type UserView = ReturnType<typeof toUserView>;

// Account changes are serialised in this process: "does this email exist? then create it" and
// "is this the last admin?" must not interleave (ClickHouse has no unique constraints).
let accountLock: Promise<unknown> = Promise.resolve();
function serialised<T>(work: () => Promise<T>): Promise<T> {
  const run = accountLock.then(work, work);
  accountLock = run.catch(() => {});
  return run;
}

function actorLabel(actor: AuditActor): string {
  return actor.type === 'anonymous' ? 'anonymous' : `${actor.type}:${actor.name || actor.id}`;
}

/** Next version timestamp of a user: strictly newer than the stored one even if clocks stall. */
function nextVersion(deps: AuthDeps, user: UserRecord | null): bigint {
  const now = deps.now();
  const previous = user ? BigInt(user.updatedAtNs) : 0n;
  return now > previous ? now : previous + 1n;
}

export async function createUser(
  deps: AuthDeps,
  actor: AuditActor,
  input: { email: string; role: Role; displayName?: string; password?: string | null; oidc?: { issuer: string; subject: string } },
  source = '',
): Promise<{ user: UserRecord; password: string | null }> {
  return serialised(async () => {
    const email = emailSchema.parse(input.email);
    if (await getUserByEmail(deps.db, email)) throw new AccountError('CONFLICT', `an account with email ${email} already exists`);
    const password = input.oidc ? null : (input.password ?? generatePassword());
    const now = deps.now();
    const user: UserRecord = {
      id: newUserId(),
      email,
      displayName: (input.displayName ?? '').slice(0, 200),
      role: input.role,
      disabled: false,
      passwordHash: password === null ? '' : await hashPassword(password, deps.config.scryptLogN),
      oidcIssuer: input.oidc?.issuer ?? '',
      oidcSubject: input.oidc?.subject ?? '',
      sessionsValidAfterNs: '0',
      createdAtNs: now.toString(),
      createdBy: actorLabel(actor),
      updatedAtNs: now.toString(),
      updatedBy: actorLabel(actor),
    };
    await putUser(deps.db, user);
    await audit(deps.db, {
      atNs: deps.now(),
      action: 'users.create',
      actor,
      source,
      target: { type: 'user', id: user.id },
      detail: { email, role: user.role, sso: !!input.oidc },
    });
    return { user, password };
  });
}

async function requireUser(deps: AuthDeps, idOrEmail: string): Promise<UserRecord> {
  const user = idOrEmail.includes('@')
    ? await getUserByEmail(deps.db, emailSchema.parse(idOrEmail))
    : await getUserById(deps.db, idOrEmail);
  if (!user) throw new AccountError('NOT_FOUND', `no user ${idOrEmail}`);
  return user;
}

/** Refuses to leave the cockpit without an active admin. */
async function guardLastAdmin(deps: AuthDeps, user: UserRecord, change: { role?: Role; disabled?: boolean }): Promise<void> {
  const losesAdmin = user.role === 'admin' && !user.disabled && ((change.role !== undefined && change.role !== 'admin') || change.disabled === true);
  if (losesAdmin && (await countAdmins(deps.db)) <= 1) {
    throw new AccountError('CONFLICT', `${user.email} is the last active admin: make another admin first`);
  }
}

async function updateUser(
  deps: AuthDeps,
  actor: AuditActor,
  idOrEmail: string,
  action: string,
  change: (user: UserRecord) => Partial<UserRecord>,
  source: string,
  detail: (before: UserRecord, after: UserRecord) => Record<string, unknown>,
): Promise<UserRecord> {
  return serialised(async () => {
    const user = await requireUser(deps, idOrEmail);
    const patch = change(user);
    await guardLastAdmin(deps, user, { role: patch.role, disabled: patch.disabled });
    const version = nextVersion(deps, user);
    const updated: UserRecord = { ...user, ...patch, updatedAtNs: version.toString(), updatedBy: actorLabel(actor) };
    await putUser(deps.db, updated);
    forgetUserSessions(user.id);
    await audit(deps.db, { atNs: deps.now(), action, actor, source, target: { type: 'user', id: user.id }, detail: { email: user.email, ...detail(user, updated) } });
    return updated;
  });
}

export function setUserRole(deps: AuthDeps, actor: AuditActor, idOrEmail: string, role: Role, source = ''): Promise<UserRecord> {
  return updateUser(deps, actor, idOrEmail, 'users.set_role', () => ({ role }), source, (before) => ({ from: before.role, to: role }));
}

/** Disabling also ends every session of the user (and their sessions stop validating at once). */
export function setUserDisabled(deps: AuthDeps, actor: AuditActor, idOrEmail: string, disabled: boolean, source = ''): Promise<UserRecord> {
  return updateUser(
    deps,
    actor,
    idOrEmail,
    disabled ? 'users.disable' : 'users.enable',
    () => (disabled ? { disabled, sessionsValidAfterNs: deps.now().toString() } : { disabled }),
    source,
    () => ({}),
  );
}

/** Ends every session of a user: "sign out everywhere", or an admin ending someone's sessions. */
export async function endAllSessions(deps: AuthDeps, actor: AuditActor, idOrEmail: string, source = ''): Promise<UserRecord> {
  const updated = await updateUser(
    deps,
    actor,
    idOrEmail,
    'users.end_sessions',
    () => ({ sessionsValidAfterNs: deps.now().toString() }),
    source,
    () => ({}),
  );
  // Also mark each open session revoked, so lists of sessions show them ended.
  const open = await openSessionsOf(deps, updated.id);
  if (open.length > 0) await revokeSessions(deps.db, open, deps.now());
  forgetUserSessions(updated.id);
  return updated;
}

/** Sets a new generated password (printed or shown once) and ends the user's sessions. */
export async function resetPassword(deps: AuthDeps, actor: AuditActor, idOrEmail: string, source = ''): Promise<{ user: UserRecord; password: string }> {
  const password = generatePassword();
  const passwordHash = await hashPassword(password, deps.config.scryptLogN);
  const user = await updateUser(
    deps,
    actor,
    idOrEmail,
    'users.reset_password',
    () => ({ passwordHash, sessionsValidAfterNs: deps.now().toString() }),
    source,
    () => ({}),
  );
  return { user, password };
}

/**
 * A user changes their own password: the current one must be given (a failure counts towards the
 * account's lockout, like a failed sign-in), the new one must pass `passwordProblem` and differ.
 * Every session of the user ends, this one included: they sign in again with the new password.
 */
export async function changeOwnPassword(
  deps: AuthDeps,
  userId: string,
  input: { currentPassword: string; newPassword: string },
  source = '',
): Promise<void> {
  const user = await getUserById(deps.db, userId);
  if (!user || user.disabled) throw new AccountError('NOT_FOUND', 'no such account');
  if (user.passwordHash === '') throw new AccountError('BAD_REQUEST', 'this account signs in through single sign-on and has no password here');
  const actor: AuditActor = { type: 'user', id: user.id, name: user.email, role: user.role };
  const subject = `account:${user.email}`;
  const now = deps.now();
  const decision = accountDecision(await recentLoginAttempts(deps.db, subject, now - ACCOUNT_MEMORY_NS, deps.config.lockoutThreshold + 1), now, {
    threshold: deps.config.lockoutThreshold,
    lockoutNs: deps.config.lockoutNs,
  });
  if (!decision.allowed) throw new AccountError('TOO_MANY_REQUESTS', 'too many wrong passwords: try again later');
  if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
    await recordLoginAttempt(deps.db, [subject], now, false);
    await audit(deps.db, { atNs: now, action: 'users.change_password', outcome: 'failure', actor, source, target: { type: 'user', id: user.id }, detail: { reason: 'wrong_current_password' } });
    throw new AccountError('BAD_REQUEST', 'the current password is wrong');
  }
  const problem = passwordProblem(input.newPassword);
  if (problem) throw new AccountError('BAD_REQUEST', `the new password needs ${problem}`);
  if (input.newPassword === input.currentPassword) throw new AccountError('BAD_REQUEST', 'the new password must differ from the current one');
  const passwordHash = await hashPassword(input.newPassword, deps.config.scryptLogN);
  await updateUser(deps, actor, user.id, 'users.change_password', () => ({ passwordHash, sessionsValidAfterNs: deps.now().toString() }), source, () => ({}));
}

/** Lifts a sign-in lockout (records a successful "attempt" that resets the failure count). */
export async function unlockAccount(deps: AuthDeps, actor: AuditActor, email: string, source = ''): Promise<void> {
  const normalized = emailSchema.parse(email);
  await recordLoginAttempt(deps.db, [`account:${normalized}`], deps.now(), true);
  await audit(deps.db, { atNs: deps.now(), action: 'users.unlock', actor, source, target: { type: 'account', id: normalized } });
}

export async function listAccounts(deps: AuthDeps): Promise<UserRecord[]> {
  return listUsers(deps.db);
}

export type PasswordSignIn =
  | { ok: true; user: UserRecord; session: NewSession }
  | { ok: false; status: 401; message: string }
  | { ok: false; status: 429; message: string; retryAfterSeconds: number };

/** One message for every credential failure: which part was wrong is nobody's business. */
export const BAD_CREDENTIALS = 'wrong email or password (or the account cannot sign in with a password)';

// Sign-in attempts for one account are serialised in this process, so that parallel guesses
// cannot all pass the throttle before any of them is recorded.
const attemptLocks = new Map<string, Promise<unknown>>();
function perAccount<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = attemptLocks.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const tail = run.catch(() => {});
  attemptLocks.set(key, tail);
  void tail.then(() => {
    if (attemptLocks.get(key) === tail) attemptLocks.delete(key);
  });
  return run;
}

/**
 * Password sign-in with backoff and lockout (see throttle.ts). Every outcome is audited. The
 * password is checked (scrypt) even when the account does not exist, so timing does not tell.
 */
export async function signInWithPassword(
  deps: AuthDeps,
  input: { email: string; password: string; source: string; userAgent: string },
): Promise<PasswordSignIn> {
  const parsed = emailSchema.safeParse(input.email);
  const email = parsed.success ? parsed.data : input.email.slice(0, 254).toLowerCase();
  const accountSubject = `account:${email}`;
  const sourceSubject = `source:${input.source || 'unknown'}`;
  const anonymous: AuditActor = { type: 'anonymous', id: '', name: email, role: '' };
  return perAccount(accountSubject, async () => {
    const now = deps.now();
    const [accountAttempts, sourceAttempts] = await Promise.all([
      recentLoginAttempts(deps.db, accountSubject, now - ACCOUNT_MEMORY_NS, deps.config.lockoutThreshold + 1),
      recentLoginAttempts(deps.db, sourceSubject, now - deps.config.lockoutNs, SOURCE_LIMIT + 1),
    ]);
    const decisions: ThrottleDecision[] = [
      accountDecision(accountAttempts, now, { threshold: deps.config.lockoutThreshold, lockoutNs: deps.config.lockoutNs }),
      sourceDecision(sourceAttempts, now, deps.config.lockoutNs),
    ];
    const refused = decisions.find((d): d is Extract<ThrottleDecision, { allowed: false }> => !d.allowed);
    if (refused) {
      const retryAfterSeconds = Number((refused.retryAfterNs + 999_999_999n) / 1_000_000_000n);
      await audit(deps.db, {
        atNs: deps.now(),
        action: 'auth.sign_in',
        outcome: 'denied',
        actor: anonymous,
        source: input.source,
        detail: { method: 'password', reason: refused.reason, retryAfterSeconds },
      });
      const message =
        refused.reason === 'locked'
          ? `too many failed sign-ins: this account is locked; try again in ${retryAfterSeconds} s`
          : refused.reason === 'source_limit'
            ? `too many failed sign-ins from your address; try again in ${retryAfterSeconds} s`
            : `too many failed sign-ins: wait ${retryAfterSeconds} s before the next attempt`;
      return { ok: false, status: 429, message, retryAfterSeconds };
    }

    const user = parsed.success ? await getUserByEmail(deps.db, email) : null;
    const usable = user && user.passwordHash !== '' && !user.disabled && input.password.length <= MAX_PASSWORD_LENGTH;
    const matches = await verifyPassword(input.password, usable ? user.passwordHash : await dummyHash(deps.config.scryptLogN));
    if (!usable || !matches) {
      await recordLoginAttempt(deps.db, [accountSubject, sourceSubject], now, false);
      const reason = !user ? 'unknown_account' : user.disabled ? 'disabled' : user.passwordHash === '' ? 'no_password' : 'wrong_password';
      await audit(deps.db, {
        atNs: deps.now(),
        action: 'auth.sign_in',
        outcome: 'failure',
        actor: user ? { type: 'user', id: user.id, name: user.email, role: user.role } : anonymous,
        source: input.source,
        detail: { method: 'password', reason, consecutiveFailures: countFailures(accountAttempts) + 1 },
      });
      return { ok: false, status: 401, message: BAD_CREDENTIALS };
    }
    // A success resets the account's count, not the source's (one known password must not
    // launder a spraying run).
    await recordLoginAttempt(deps.db, [accountSubject], now, true);
    const session = await createSession(deps, user, { method: 'password', source: input.source, userAgent: input.userAgent });
    await auditSignIn(deps, user, session, input.source, { method: 'password' });
    return { ok: true, user, session };
  });
}

/** Records a successful sign-in (password or SSO): the user, the session (a hash prefix), how. */
export async function auditSignIn(deps: AuthDeps, user: UserRecord, session: NewSession, source: string, detail: Record<string, unknown>): Promise<void> {
  await audit(deps.db, {
    atNs: deps.now(),
    action: 'auth.sign_in',
    actor: { type: 'user', id: user.id, name: user.email, role: user.role },
    source,
    target: { type: 'session', id: session.idHash.slice(0, 16) },
    detail,
  });
}

function countFailures(attempts: readonly { ok: boolean }[]): number {
  let n = 0;
  for (const a of attempts) {
    if (a.ok) break;
    n++;
  }
  return n;
}
