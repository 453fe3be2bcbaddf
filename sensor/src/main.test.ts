import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The sensor CLI's refusals: it says why and exits non-zero; it never serves invented events.
const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
let dir: string;

function run(args: string[], options: { env?: Record<string, string>; unprivileged?: boolean } = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const k of ['SENSOR_TLS_CA', 'SENSOR_TLS_CERT', 'SENSOR_TLS_KEY']) if (!options.env?.[k]) delete env[k];
  // As root, drop to nobody: no capabilities, so eBPF cannot load (what the test is about).
  const drop = options.unprivileged && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const child = spawn(TSX, [path.join(ROOT, 'sensor/src/main.ts'), ...args], { cwd: os.tmpdir(), env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'], ...drop });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soc-main-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sensor CLI', () => {
  it('refuses to start without TLS (status 2)', async () => {
    const { code, out } = await run(['--listen', 'localhost:0']);
    expect(code).toBe(2);
    expect(out).toMatch(/TLS required/);
  });

  it('refuses inconsistent flags with the usage (status 2)', async () => {
    const { code, out } = await run(['--speed', '2']);
    expect(code).toBe(2);
    expect(out).toMatch(/--speed and --shift-to-now need --replay/);
    expect(out).toMatch(/Usage: npm run sensor/);
  });

  it('refuses unknown facts and unusable path classes before loading anything (status 2)', async () => {
    const unknown = await run(['--facts-off', 'syscalls,bitmap']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/--facts-off: unknown fact "bitmap"/);
    const classes = path.join(dir, 'classes.json');
    await writeFile(classes, '[{"name": "everything", "patterns": ["*"]}]');
    const bad = await run(['--path-classes', classes]);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--path-classes: .*classes\.json: .*matches everything/);
    const both = await run(['--facts-off', 'counters', '--counters-interval-s', '5']);
    expect(both.code).toBe(2);
    expect(both.out).toMatch(/--counters-interval-s with counters in --facts-off/);
  });

  it('refuses to replay a file that is not a soc-sensor recording (status 1)', async () => {
    const file = path.join(dir, 'not-a-recording');
    await writeFile(file, 'just some text\n');
    const tls = { SENSOR_TLS_CA: file, SENSOR_TLS_CERT: file, SENSOR_TLS_KEY: file };
    const { code, out } = await run(['--replay', file], { env: tls });
    expect(code).toBe(1);
    expect(out).toContain('cannot replay');
    expect(out).toContain(file);
  });

  it('says exactly why eBPF cannot load and exits 1 when unprivileged', async () => {
    const tls = { SENSOR_TLS_CA: '/nonexistent/ca', SENSOR_TLS_CERT: '/nonexistent/cert', SENSOR_TLS_KEY: '/nonexistent/key' };
    const { code, out } = await run(['--listen', 'localhost:0'], { env: tls, unprivileged: true });
    expect(code).toBe(1);
    const line = out.split('\n').find((l) => l.includes('eBPF unavailable'));
    expect(line, out).toBeDefined();
    expect(JSON.parse(line!).reason).toMatch(/capabilit|BTF|not Linux|not built/);
  });
});
