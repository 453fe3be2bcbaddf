import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET, POST } from '../../app/api/trpc/[trpc]/route';
import { closeDb, getDb } from '../../db/client';
import { insertAuditRecords } from '../../db/repositories/audit';
import { storeEventBatch } from '../../db/repositories/sensorStream';
import { nowNs } from '../../db/time';
import { procedureAccess } from '../auth/accessMatrix';
import { authConfigFromEnv } from '../auth/config';
import { createApiToken } from '../auth/tokens';
import { appRouter } from './root';
import { eventBatch, eventFactory } from './testing';

// Hostile input against every procedure's input schema, over the real HTTP handler and storage,
// as an admin (so that every input reaches validation): never a 500, never a stack trace; SQL in
// free-text filters is data; oversized requests are refused before parsing. Bounded in time.
const ORIGIN = 'http://cockpit.test';
const BUDGET_MS = 90_000;
let dataDir: string;
let token: string;
const NOW = nowNs();

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-hostile-'));
  process.env.CHDB_PATH = dataDir;
  delete process.env.CLICKHOUSE_URL;
  const db = await getDb();
  token = (await createApiToken({ db, now: nowNs, config: authConfigFromEnv({}) }, { name: 'fuzz', role: 'admin', expiresInDays: 1, createdBy: 'test' })).token;
  const ev = eventFactory('node-a', NOW - 60_000_000_000n);
  await storeEventBatch(
    db,
    eventBatch('local', 'epoch-1', 1, [
      ev.exec('node-a:0a1b2c3d:1:100:1', '', 100, 1, 0, "/opt/x'; DROP TABLE processes; --/evil", ['evil']),
      ev.exec('node-a:0a1b2c3d:2:101:1', '', 101, 1, 1, '/usr/bin/100%_sure', ['sure']),
      ev.exec('node-a:0a1b2c3d:3:102:1', '', 102, 1, 2, '/usr/bin/plain', ['plain']),
    ]),
    NOW - 30_000_000_000n,
  );
  const base = { outcome: 'success' as const, actorType: 'user' as const, actorId: 'u', actorRole: 'viewer', sourceAddress: '::1', targetType: '', targetId: '' };
  await insertAuditRecords(db, [
    { ...base, tsNs: (NOW - 5_000_000_000n).toString(), eventId: 'e-sql', action: 'test.sql', actorName: "mallory' OR 1=1 --", detail: '{"q":"{x:String}"}' },
    { ...base, tsNs: (NOW - 4_000_000_000n).toString(), eventId: 'e-plain', action: 'test.sql', actorName: 'alice', detail: '{}' },
  ]);
});

afterAll(async () => {
  await closeDb(await getDb()).catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function send(procedurePath: string, type: string, rawInput: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const auth = { authorization: `Bearer ${token}`, ...headers };
  const request =
    type === 'mutation'
      ? POST(new Request(`${ORIGIN}/api/trpc/${procedurePath}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: rawInput ?? '' }))
      : GET(new Request(`${ORIGIN}/api/trpc/${procedurePath}${rawInput === undefined ? '' : `?input=${encodeURIComponent(rawInput)}`}`, { headers: auth }));
  const response = await Promise.race([request, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${procedurePath} took over 10 s`)), 10_000))]);
  return { status: response.status, text: await response.text() };
}

// --- the corpus ----------------------------------------------------------------------------------

const nest = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);
/** Raw JSON texts (some cannot be built with JSON.stringify: __proto__ keys, deep nesting). */
const HOSTILE_VALUES: string[] = [
  'null',
  'true',
  '-1',
  '-0',
  '1e308',
  '18446744073709551616',
  '"1e309"',
  '""',
  '" "',
  JSON.stringify('x'.repeat(10_000)),
  JSON.stringify('\u0000\u0001\u001f'),
  JSON.stringify('a\u0000b'),
  '"\\ud800"',
  JSON.stringify('𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u202e\ufeff ﷽ ๏̶̧̛'),
  JSON.stringify("'; DROP TABLE processes; --"),
  JSON.stringify('{x:String}'),
  JSON.stringify('../../../../etc/passwd'),
  JSON.stringify('${7*7} {{7*7}} <script>alert(1)</script>'),
  '[]',
  '{}',
  nest(5_000, '[', ']'),
  nest(2_000, '{"a":', '}'),
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  JSON.stringify(Array.from({ length: 1000 }, (_, i) => i)),
];

function propertiesOf(schema: unknown): string[] {
  try {
    const json = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };
    return Object.keys(json.properties ?? {});
  } catch {
    return [];
  }
}

/** A small deterministic PRNG: the same "random" payloads on every run. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

function randomJson(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 5 : 8));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return Math.floor((rand() - 0.5) * 2 ** (rand() * 70));
    case 3:
      return String.fromCodePoint(...Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 0xd7ff)));
    case 4:
      return ['', 'sleep', 'node-a:0a1b2c3d:1:100:1', '1700000000000000000', 'admin', 'viewer@x', '0000000000000000'][Math.floor(rand() * 7)];
    case 5:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(rand, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, (_, i) => [['from', 'to', 'id', 'email', 'role', 'name', `k${i}`][Math.floor(rand() * 7)]!, randomJson(rand, depth + 1)]));
  }
}

function payloadsFor(schema: unknown, seed: number): string[] {
  const payloads = [...HOSTILE_VALUES];
  for (const key of propertiesOf(schema)) {
    for (const value of HOSTILE_VALUES) payloads.push(`{${JSON.stringify(key)}:${value}}`);
    payloads.push(`{${JSON.stringify(key)}:"x","__proto__":{"polluted":true}}`);
  }
  const rand = prng(seed);
  for (let i = 0; i < 25; i++) payloads.push(JSON.stringify(randomJson(rand)));
  return payloads;
}

const INTERNALS = /\bat [\w.<>]+ \(|node_modules|\.tsx?:\d+|\bstack\b|DB::Exception|Code: \d+/i;
const ACCEPTED_STATUSES = [200, 400, 404, 409, 413, 414, 415];

describe('hostile input to every procedure', () => {
  const { procedures } = procedureAccess(appRouter);
  const started = Date.now();

  it.each(procedures.map((p) => [p.path, p] as const))('%s: never a 500, never internals', async (procedurePath, procedure) => {
    const schema = (appRouter._def.procedures as unknown as Record<string, { _def: { inputs: unknown[] } }>)[procedurePath]!._def.inputs[0];
    const payloads = payloadsFor(schema, procedurePath.length * 7919);
    const failures: string[] = [];
    for (const payload of payloads) {
      const { status, text } = await send(procedurePath, procedure.type, payload);
      if (!ACCEPTED_STATUSES.includes(status) || INTERNALS.test(text)) failures.push(`${status} for ${payload.slice(0, 80)}: ${text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(BUDGET_MS);
  });
});

describe('SQL-looking text in free-text filters is matched literally', () => {
  const window = { from: (NOW - 3_600_000_000_000n).toString(), to: NOW.toString() };
  const search = async (binary: string) => JSON.parse((await send('processes.search', 'query', JSON.stringify({ ...window, binary }))).text).result.data.processes.map((p: { binary: string }) => p.binary);
  const audit = async (filter: Record<string, string>) =>
    JSON.parse((await send('audit.list', 'query', JSON.stringify({ ...window, action: 'test.sql', ...filter }))).text).result.data.events.map((e: { eventId: string }) => e.eventId);

  it('processes.search binary', async () => {
    expect(await search("'; DROP TABLE processes; --")).toEqual(["/opt/x'; DROP TABLE processes; --/evil"]);
    expect(await search('%')).toEqual(['/usr/bin/100%_sure']);
    expect(await search('_sure')).toEqual(['/usr/bin/100%_sure']);
    expect(await search("' OR '1'='1")).toEqual([]);
    expect(await search('{binary:String}')).toEqual([]);
    expect((await search('plain')).length).toBe(1); // and the table is still there
  });

  it('audit.list actor and text', async () => {
    expect(await audit({ actor: "' OR 1=1 --" })).toEqual(['e-sql']);
    expect(await audit({ actor: '%' })).toEqual([]);
    expect(await audit({ text: '{x:String}' })).toEqual(['e-sql']);
    expect(await audit({ actor: "alice' --" })).toEqual([]);
    expect((await audit({})).sort()).toEqual(['e-plain', 'e-sql']);
  });
});

describe('oversized and malformed requests are refused before parsing', () => {
  it('refuses bodies over the limit with 413, declared or streamed', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(300 * 1024), role: 'viewer', expiresInDays: 1 });
    expect((await send('tokens.create', 'mutation', big)).status).toBe(413);
    const lying = await POST(
      new Request(`${ORIGIN}/api/trpc/tokens.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': String(10 * 1024 * 1024) },
        body: '{}',
      }),
    );
    expect(lying.status).toBe(413);
  });

  it('refuses an overlong URL with 414, a huge batch with 400, non-JSON with 415, broken JSON with 400', async () => {
    expect((await send('processes.search', 'query', JSON.stringify({ binary: 'x'.repeat(20_000) }))).status).toBe(414);
    const batch = await GET(new Request(`${ORIGIN}/api/trpc/${Array(21).fill('auth.me').join(',')}?batch=1`, { headers: { authorization: `Bearer ${token}` } }));
    expect(batch.status).toBe(400);
    const form = await POST(
      new Request(`${ORIGIN}/api/trpc/tokens.create`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` }, body: 'name=x' }),
    );
    expect(form.status).toBe(415);
    const broken = await send('tokens.create', 'mutation', '{"name": "x",');
    expect(broken.status).toBe(400);
    expect(broken.text).not.toMatch(INTERNALS);
  });
});
