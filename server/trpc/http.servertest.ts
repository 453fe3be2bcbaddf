import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, getDb } from '../../db/client';
import { nowNs } from '../../db/time';
import { GET } from '../../app/api/trpc/[trpc]/route';
import { authConfigFromEnv } from '../auth/config';
import { createApiToken } from '../auth/tokens';

// The HTTP contract as scripts and curl see it: the real route handler, the real context (getDb()
// on a fresh embedded data directory), status codes and error bodies — called as a script does,
// with a viewer's API token.
let dataDir: string;
let token: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-http-'));
  process.env.CHDB_PATH = dataDir;
  delete process.env.CLICKHOUSE_URL;
  delete process.env.SENSORS;
  const deps = { db: await getDb(), now: nowNs, config: authConfigFromEnv({}) };
  token = (await createApiToken(deps, { name: 'http-test', role: 'viewer', expiresInDays: 1, createdBy: 'test' })).token;
});

afterAll(async () => {
  await closeDb(await getDb()).catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function get(procedure: string, input?: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }): Promise<{ status: number; body: any; text: string }> {
  const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const response = await GET(new Request(`http://cockpit.test/api/trpc/${procedure}${query}`, { headers }));
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

/** Nothing internal in an error body: no stack frames, no SQL, no source paths. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/stack|\bat .*\(|node_modules|\.ts:\d+|SELECT|FROM process/i);
}

describe('tRPC over HTTP', () => {
  it('answers a call without credentials with 401, and a bad token with 401', async () => {
    const anonymous = await get('processes.search', { from: '0', to: '1' }, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.data.code).toBe('UNAUTHORIZED');
    const forged = await get('processes.search', { from: '0', to: '1' }, { authorization: `Bearer soc_pat_${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
    expect(forged.body.error.message).toBe('the API token is invalid, expired or revoked');
  });

  it('answers invalid input with 400 and a message naming the field', async () => {
    const { status, body, text } = await get('processes.search', { from: '2000', to: '1000' });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        message: 'invalid input: to: must not be before from',
        code: -32600,
        data: { code: 'BAD_REQUEST', httpStatus: 400, path: 'processes.search', issues: [{ path: 'to', message: 'must not be before from' }] },
      },
    });
    expectNoInternals(text);
  });

  it('lists every invalid field, and says when the input is missing altogether', async () => {
    const several = await get('processes.search', { from: 'yesterday', to: '1', limit: 0 });
    expect(several.status).toBe(400);
    expect(several.body.error.message).toBe(
      'invalid input: from: must be nanoseconds since the Unix epoch, as a decimal string; limit: must be ≥ 1',
    );
    const missing = await get('processes.search');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^invalid input: input: /);
    expectNoInternals(missing.text);
  });

  it('rejects a malformed exec id with 400', async () => {
    const { status, body } = await get('processes.get', { execId: 'node-a;DROP TABLE processes' });
    expect(status).toBe(400);
    expect(body.error.message).toBe('invalid input: execId: not an exec id (node:boot:start_ns:pid:exec_count)');
  });

  it('answers an unknown exec id with 404 and a message', async () => {
    const execId = 'node-a:0a1b2c3d:1005:101:3';
    const { status, body, text } = await get('processes.get', { execId });
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ message: `no process with exec id ${execId}`, data: { code: 'NOT_FOUND', httpStatus: 404 } });
    expectNoInternals(text);
  });

  it('answers a valid query with {"result":{"data":…}} in plain JSON', async () => {
    const { status, body } = await get('processes.search', { from: '0', to: '1000000000', binary: 'sleep' });
    expect(status).toBe(200);
    expect(body).toEqual({ result: { data: { processes: [], limit: 100, truncated: false } } });
    const sensors = await get('sensors.list');
    expect(sensors).toMatchObject({ status: 200, body: { result: { data: { sensors: [] } } } });
  });

  it('answers an unknown procedure with 404', async () => {
    const { status, body } = await get('processes.delete', { execId: 'x' });
    expect(status).toBe(404);
    expect(body.error.data.code).toBe('NOT_FOUND');
  });
});
