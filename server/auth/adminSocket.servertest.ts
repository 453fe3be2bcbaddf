import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, getDb } from '../../db/client';
import { nowNs } from '../../db/time';
import { authConfigFromEnv } from './config';
import { adminSocketPath, startAdminSocket } from './adminSocket';
import { execute, parseExpiryDays, requestFromArgs } from './cli';
import { resolveApiToken } from './tokens';

// The CLI and the admin socket: a cockpit process (this test process) holds the embedded data
// directory, and the CLI reaches it through the socket; with no cockpit the CLI opens storage
// itself; with the directory held and no socket answering it says so.
let dir: string;
let server: net.Server | null;
let socketPath: string;

/** Runs the CLI as its own process (asynchronously: this process must keep serving the socket). */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(path.join('node_modules', '.bin', 'tsx'), ['server/auth/cli.ts', ...args], { env: { ...process.env, NODE_ENV: 'production', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-cli-'));
  process.env.CHDB_PATH = path.join(dir, 'chdb');
  process.env.AUTH_SCRYPT_LOG_N = '14';
  delete process.env.CLICKHOUSE_URL;
  await getDb(); // this process is "the cockpit": it holds the data directory
  socketPath = adminSocketPath()!;
  server = await startAdminSocket(socketPath);
});

afterAll(async () => {
  server?.close();
  await closeDb(await getDb()).catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the admin socket', () => {
  it('lives in an owner-only directory inside the data directory, as an owner-only socket', () => {
    expect(socketPath).toBe(path.join(dir, 'chdb', 'admin', 'cockpit.sock'));
    expect(fs.statSync(path.dirname(socketPath)).mode & 0o777).toBe(0o700);
    const stat = fs.statSync(socketPath);
    expect(stat.isSocket()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o600);
  });

  it('runs CLI commands in the running cockpit, and they are audited with the CLI user', async () => {
    const { result, via } = await execute({ op: 'users.create', email: 'first-admin@example.org', role: 'admin' });
    expect(via).toContain('running cockpit');
    expect(result).toMatchObject({ user: { email: 'first-admin@example.org', role: 'admin' }, password: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/) });
  });

  it('serves a separate CLI process: npm run tokens -- create … prints the token once', async () => {
    const out = await cli(['tokens', 'create', '--name', 'nightly', '--role', 'viewer', '--expires', '30d'], { CHDB_PATH: path.join(dir, 'chdb'), AUTH_SCRYPT_LOG_N: '14' });
    expect(out.stderr).toContain('via the running cockpit');
    expect(out.code).toBe(0);
    const token = /token \(shown once, store it now\): (soc_pat_\S+)/.exec(out.stdout)?.[1];
    expect(token).toBeDefined();
    const check = await resolveApiToken({ db: await getDb(), now: nowNs, config: authConfigFromEnv({}) }, token!);
    expect(check).toMatchObject({ ok: true, principal: { name: 'nightly', role: 'viewer' } });
  });

  it('refuses bad requests without running anything', async () => {
    await expect(execute({ op: 'users.setRole', user: 'nobody@example.org', role: 'admin' })).rejects.toThrow(/no user nobody@example.org/);
  });
});

describe('the CLI without a running cockpit', () => {
  it('opens storage directly, and falls back to it when a dead cockpit left its socket file', async () => {
    const other = path.join(dir, 'other');
    const created = await cli(['users', 'create-admin', '--email', 'ops@example.org', '--json'], { CHDB_PATH: other, AUTH_SCRYPT_LOG_N: '14' });
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ user: { email: 'ops@example.org', role: 'admin' }, password: expect.any(String) });
    fs.mkdirSync(path.join(other, 'admin'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(other, 'admin', 'cockpit.sock'), ''); // not a live socket
    const listed = await cli(['users', 'list'], { CHDB_PATH: other });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ops@example\.org\s+admin/);
    expect(listed.stderr).toContain('via storage directly');
  });

  it('says why when the cockpit holds the data directory and no socket answers', async () => {
    const out = await cli(['users', 'list'], { CHDB_PATH: path.join(dir, 'chdb'), AUTH_ADMIN_SOCKET: 'off' });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/held by another process \(a running cockpit\?\) and no admin socket answers/);
  });
});

describe('command-line parsing', () => {
  it('turns words into validated requests', () => {
    expect(requestFromArgs('users', ['create-admin', '--email', 'A@B.org']).request).toEqual({ op: 'users.create', email: 'a@b.org', role: 'admin' });
    expect(requestFromArgs('users', ['set-role', 'a@b.org', 'responder']).request).toEqual({ op: 'users.setRole', user: 'a@b.org', role: 'responder' });
    expect(requestFromArgs('tokens', ['create', '--name', 'n', '--role', 'viewer', '--expires', '12h', '--json'])).toEqual({
      request: { op: 'tokens.create', name: 'n', role: 'viewer', expiresInDays: 1 },
      json: true,
    });
    expect(() => requestFromArgs('users', ['set-role', 'a@b.org', 'root'])).toThrow(/role/);
    expect(() => requestFromArgs('tokens', ['revoke', "1'; DROP"])).toThrow(/token id/);
    expect(parseExpiryDays('30d')).toBe(30);
    expect(() => parseExpiryDays('forever')).toThrow();
  });
});
