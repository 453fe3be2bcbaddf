import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GET, POST } from '../../app/api/trpc/[trpc]/route';
import { closeDb, getDb } from '../../db/client';
import { nowNs } from '../../db/time';
import { createTRPCRouter, scopedProcedure } from '../trpc/init';
import { appRouter } from '../trpc/root';
import { procedureAccess } from './accessMatrix';
import { createUser, signInWithPassword } from './accounts';
import { authConfigFromEnv } from './config';
import type { AuthDeps } from './deps';
import { ROLES, type Role } from './roles';
import { createApiToken, revokeApiTokenById } from './tokens';

// The access matrix, generated from the router: every procedure × every kind of caller, over
// the real HTTP handler and real storage, with real sessions and tokens. Expected outcomes come
// from the scope → role table; a procedure without a scope, or a scope without roles, fails.
const ORIGIN = 'http://cockpit.test';
const DAY = 86_400_000_000_000n;

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** null: must be refused as unauthenticated. */
  role: Role | null;
}

let dataDir: string;
const callers: Caller[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-matrix-'));
  process.env.CHDB_PATH = dataDir;
  process.env.AUTH_SCRYPT_LOG_N = '14';
  delete process.env.CLICKHOUSE_URL;
  const config = authConfigFromEnv({ AUTH_SCRYPT_LOG_N: '14' });
  const deps: AuthDeps = { db: await getDb(), now: nowNs, config };
  const cli = { type: 'cli' as const, id: 'uid:0', name: 'matrix', role: 'admin' };
  for (const role of ROLES) {
    const { password } = await createUser(deps, cli, { email: `${role}@matrix.test`, role });
    const signIn = await signInWithPassword(deps, { email: `${role}@matrix.test`, password: password!, source: '::1', userAgent: 'matrix' });
    if (!signIn.ok) throw new Error(signIn.message);
    callers.push({ name: `session:${role}`, role, headers: { cookie: `__Host-soc_session=${signIn.session.id}` } });
    const { token } = await createApiToken(deps, { name: `matrix-${role}`, role, expiresInDays: 1, createdBy: 'matrix' });
    callers.push({ name: `token:${role}`, role, headers: { authorization: `Bearer ${token}` } });
  }
  callers.push({ name: 'no credentials', role: null, headers: {} });
  // A session that reached its absolute end, a token past its expiry, a revoked token.
  const past = (offset: bigint): AuthDeps => ({ ...deps, now: () => nowNs() - offset });
  const { password } = await createUser(deps, cli, { email: 'expired@matrix.test', role: 'admin' });
  const old = await signInWithPassword(past(config.sessionMaxNs + 1_000_000_000n), { email: 'expired@matrix.test', password: password!, source: '::1', userAgent: 'matrix' });
  if (!old.ok) throw new Error(old.message);
  callers.push({ name: 'expired session (admin)', role: null, headers: { cookie: `__Host-soc_session=${old.session.id}` } });
  const expired = await createApiToken(past(2n * DAY), { name: 'expired', role: 'admin', expiresInDays: 1, createdBy: 'matrix' });
  callers.push({ name: 'expired token (admin)', role: null, headers: { authorization: `Bearer ${expired.token}` } });
  const revoked = await createApiToken(deps, { name: 'revoked', role: 'admin', expiresInDays: 1, createdBy: 'matrix' });
  await revokeApiTokenById(deps, revoked.record.id, 'matrix');
  callers.push({ name: 'revoked token (admin)', role: null, headers: { authorization: `Bearer ${revoked.token}` } });
  callers.push({ name: 'forged session', role: null, headers: { cookie: `__Host-soc_session=${'A'.repeat(43)}` } });
});

afterAll(async () => {
  await closeDb(await getDb()).catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function call(procedurePath: string, type: string, caller: Caller): Promise<{ status: number; body: any }> {
  const response =
    type === 'mutation'
      ? await POST(
          new Request(`${ORIGIN}/api/trpc/${procedurePath}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', origin: ORIGIN, ...caller.headers },
            body: '{}',
          }),
        )
      : await GET(new Request(`${ORIGIN}/api/trpc/${procedurePath}`, { headers: caller.headers }));
  return { status: response.status, body: await response.json() };
}

describe('the access matrix', () => {
  const { procedures, problems } = procedureAccess(appRouter);

  it('covers every procedure of the router, each with a scope that maps to roles', () => {
    expect(problems).toEqual([]);
    expect(procedures.length).toBeGreaterThanOrEqual(19);
    for (const p of procedures) expect(p.roles.length, p.path).toBeGreaterThan(0);
  });

  it.each(procedures.map((p) => [p.path, p] as const))('%s', async (_path, procedure) => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const caller of callers) {
      const { status, body } = await call(procedure.path, procedure.type, caller);
      const outcome = status === 401 ? 'unauthenticated' : status === 403 ? 'forbidden' : status >= 500 ? `error ${status}` : 'allowed';
      outcomes.push(`${caller.name}: ${outcome}`);
      const want = caller.role === null ? 'unauthenticated' : procedure.roles.includes(caller.role) ? 'allowed' : 'forbidden';
      expected.push(`${caller.name}: ${want}`);
      if (status === 401 || status === 403) expect(body.error.data.code).toBe(status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN');
    }
    expect(outcomes).toEqual(expected);
  });
});

describe('the matrix check itself', () => {
  it('fails a procedure without a scope and a scope without a role mapping', () => {
    const broken = createTRPCRouter({
      noScope: scopedProcedure.query(() => 'x'),
      unmapped: scopedProcedure.meta({ scope: 'reports:delete' as never }).query(() => 'x'),
      fine: scopedProcedure.meta({ scope: 'processes:read' }).input(z.object({})).query(() => 'x'),
    });
    expect(procedureAccess(broken).problems).toEqual([
      'noScope: declares no scope (add .meta({ scope }))',
      'unmapped: scope "reports:delete" has no role mapping in server/auth/permissions.ts',
    ]);
  });

  it('and such a procedure fails closed when called: never a success', async () => {
    const broken = createTRPCRouter({ noScope: scopedProcedure.query(() => 'secret'), unmapped: scopedProcedure.meta({ scope: 'reports:delete' as never }).query(() => 'secret') });
    const { createCallerFactory } = await import('../trpc/init');
    const { testContext } = await import('../trpc/testing');
    const api = createCallerFactory(broken)(testContext({ as: 'admin' }));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    await expect(api.noScope()).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    await expect(api.unmapped()).rejects.toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
  });
});
