import fs from 'node:fs';
import os from 'node:os';
import { closeDb, openDb, type Db } from '../../db/client';
import { storageConfigFromEnv } from '../../db/config';
import { nowNs } from '../../db/time';
import { runAdminCommand, ZAdminRequest, type AdminRequest } from './admin';
import { adminSocketPath, sendAdminRequest } from './adminSocket';
import type { AuditActor } from './audit';
import { authConfigFromEnv } from './config';

/**
 * Account and token administration from the shell:
 *
 *   npm run users -- create-admin --email E [--name N]     prints the generated password once
 *   npm run users -- create --email E --role R [--name N]  prints the generated password once
 *   npm run users -- list
 *   npm run users -- set-role USER ROLE                    USER: email or id
 *   npm run users -- disable USER | enable USER
 *   npm run users -- end-sessions USER                     signs the user out everywhere
 *   npm run users -- reset-password USER                   prints the new password once
 *   npm run users -- unlock EMAIL                          lifts a sign-in lockout
 *   npm run tokens -- create --name N --role R --expires 30d   prints the token once
 *   npm run tokens -- list
 *   npm run tokens -- revoke ID
 *
 * Add --json for machine-readable output.
 *
 * Where it runs the command: when a cockpit is running on the same embedded data directory
 * (CHDB_PATH), through that cockpit's admin socket (chDB allows one process per directory);
 * otherwise against storage directly (embedded and free, or a ClickHouse server).
 */

const USAGE = `usage:
  users create-admin --email E [--name N]
  users create --email E --role viewer|analyst|responder|admin [--name N]
  users list
  users set-role USER ROLE          (USER is an email or a user id)
  users disable USER | users enable USER
  users end-sessions USER
  users reset-password USER
  users unlock EMAIL
  tokens create --name N --role ROLE --expires 30d|12h|365d
  tokens list
  tokens revoke ID
options: --json (machine-readable output)`;

class UsageError extends Error {}

function parseArgs(argv: string[]): { positional: string[]; flags: Map<string, string | true> } {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      if (inline !== undefined) flags.set(name, inline);
      else if (name === 'json') flags.set(name, true);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) flags.set(name, argv[++i]!);
      else throw new UsageError(`--${name} needs a value`);
    } else positional.push(arg);
  }
  return { positional, flags };
}

/** "30d" → 30, "12h" → 1 (whole days, rounded up), "365" → 365. */
export function parseExpiryDays(text: string): number {
  const m = /^(\d{1,5})\s*(d|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--expires: expected e.g. 30d or 12h, got "${text}"`);
  const n = Number(m[1]);
  return m[2] === 'h' ? Math.max(1, Math.ceil(n / 24)) : n;
}

/** Turns command-line words into an admin request (validated by the same schema the socket uses). */
export function requestFromArgs(group: string, argv: string[]): { request: AdminRequest; json: boolean } {
  const { positional, flags } = parseArgs(argv);
  const [command, ...rest] = positional;
  const flag = (name: string) => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const need = (value: string | undefined, what: string) => {
    if (!value) throw new UsageError(`${group} ${command}: missing ${what}`);
    return value;
  };
  const user = () => need(flag('email') ?? flag('id') ?? rest[0], 'USER (email or id)');
  let raw: Record<string, unknown>;
  const key = `${group} ${command ?? ''}`;
  switch (key) {
    case 'users create-admin':
      raw = { op: 'users.create', email: need(flag('email') ?? rest[0], '--email'), role: 'admin', displayName: flag('name') };
      break;
    case 'users create':
      raw = { op: 'users.create', email: need(flag('email') ?? rest[0], '--email'), role: need(flag('role') ?? rest[1], '--role'), displayName: flag('name') };
      break;
    case 'users list':
      raw = { op: 'users.list' };
      break;
    case 'users set-role':
      raw = { op: 'users.setRole', user: user(), role: need(flag('role') ?? rest[1], 'ROLE') };
      break;
    case 'users disable':
      raw = { op: 'users.disable', user: user() };
      break;
    case 'users enable':
      raw = { op: 'users.enable', user: user() };
      break;
    case 'users end-sessions':
      raw = { op: 'users.endSessions', user: user() };
      break;
    case 'users reset-password':
      raw = { op: 'users.resetPassword', user: user() };
      break;
    case 'users unlock':
      raw = { op: 'users.unlock', email: need(flag('email') ?? rest[0], 'EMAIL') };
      break;
    case 'tokens create':
      raw = { op: 'tokens.create', name: need(flag('name'), '--name'), role: need(flag('role'), '--role'), expiresInDays: parseExpiryDays(need(flag('expires'), '--expires')) };
      break;
    case 'tokens list':
      raw = { op: 'tokens.list' };
      break;
    case 'tokens revoke':
      raw = { op: 'tokens.revoke', id: need(flag('id') ?? rest[0], 'ID') };
      break;
    default:
      throw new UsageError(`unknown command: ${key.trim() || '(none)'}`);
  }
  if (raw.displayName === undefined) delete raw.displayName;
  const parsed = ZAdminRequest.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '));
  return { request: parsed.data, json: flags.get('json') === true };
}

function cliActor(): AuditActor {
  const uid = process.getuid?.() ?? -1;
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry
  }
  return { type: 'cli', id: `uid:${uid}`, name: user, role: 'admin' };
}

/** Runs the request: over the admin socket when a cockpit answers there, else on storage directly. */
export async function execute(request: AdminRequest, env: NodeJS.ProcessEnv = process.env): Promise<{ result: unknown; via: string }> {
  const storage = storageConfigFromEnv(env);
  const config = authConfigFromEnv(env);
  const socketPath = adminSocketPath(storage, config.adminSocket);
  const actor = cliActor();
  if (socketPath && fs.existsSync(socketPath)) {
    try {
      const response = await sendAdminRequest(socketPath, { request, cli: { user: actor.name, uid: process.getuid?.() ?? -1 } });
      if (!response.ok) throw new Error(response.error);
      return { result: response.result, via: `the running cockpit (${socketPath})` };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Nothing listens (a cockpit that died left its socket): use storage directly.
      if (code !== 'ECONNREFUSED' && code !== 'ENOENT') throw error;
    }
  }
  let db: Db;
  try {
    db = await openDb(storage);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // chDB says "Cannot lock file …/status" on stderr and "Failed to create connection" in the error.
    if (storage.mode === 'embedded' && /lock|failed to create connection/i.test(message)) {
      throw new Error(
        `storage at ${storage.mode === 'embedded' ? storage.chdbPath : 'the server'} is held by another process (a running cockpit?) ` +
          `and no admin socket answers${socketPath ? ` at ${socketPath}` : ''}: run the command on the machine and as the user of the cockpit, with the same CHDB_PATH`,
      );
    }
    throw error;
  }
  try {
    return { result: await runAdminCommand({ db, now: nowNs, config }, actor, request), via: 'storage directly' };
  } finally {
    await closeDb(db).catch(() => {});
  }
}

function print(request: AdminRequest, result: unknown): void {
  const r = result as Record<string, any>;
  switch (request.op) {
    case 'users.create':
    case 'users.resetPassword':
      console.log(`${request.op === 'users.create' ? 'created' : 'new password for'} ${r.user.email} (role ${r.user.role}, id ${r.user.id})`);
      console.log(`password (shown once, store it now): ${r.password}`);
      return;
    case 'users.list':
      for (const u of r.users) console.log(`${u.id}  ${u.email.padEnd(32)} ${u.role.padEnd(9)} ${u.disabled ? 'disabled' : 'active  '} ${u.sso ? 'sso' : ''}`);
      if (r.users.length === 0) console.log('no users yet: npm run users -- create-admin --email you@example.org');
      return;
    case 'tokens.create':
      console.log(`created token ${r.info.id} "${r.info.name}" (role ${r.info.role}, expires ${new Date(Number(BigInt(r.info.expiresAtNs) / 1_000_000n)).toISOString()})`);
      console.log(`token (shown once, store it now): ${r.token}`);
      return;
    case 'tokens.list':
      for (const t of r.tokens) {
        console.log(`${t.id}  ${t.name.padEnd(24)} ${t.role.padEnd(9)} ${t.state.padEnd(7)} expires ${new Date(Number(BigInt(t.expiresAtNs) / 1_000_000n)).toISOString()}`);
      }
      if (r.tokens.length === 0) console.log('no tokens');
      return;
    default:
      console.log(JSON.stringify(result));
  }
}

async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  if (group !== 'users' && group !== 'tokens') {
    console.error(USAGE);
    return 2;
  }
  let parsed: { request: AdminRequest; json: boolean };
  try {
    parsed = requestFromArgs(group, rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  try {
    const { result, via } = await execute(parsed.request);
    if (parsed.json) console.log(JSON.stringify(result));
    else {
      print(parsed.request, result);
      console.error(`(via ${via})`);
    }
    return 0;
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] && /cli\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (error) => {
    console.error(error);
    process.exit(1);
  });
}
