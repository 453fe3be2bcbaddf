import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '../../../app/api/trpc/[trpc]/route';
import { closeDb, getDb, type Db } from '../../../db/client';
import { listAuditRecords } from '../../../db/repositories/audit';
import { countBaselineRows, insertEntries, insertProfiles, type EntryRecord, type ProfileRecord } from '../../../db/repositories/baselines';
import { upsertIndicators, type IndicatorRecord } from '../../../db/repositories/indicators';
import { nowNs } from '../../../db/time';
import { authConfigFromEnv } from '../../auth/config';
import { createApiToken } from '../../auth/tokens';
import { createCaller } from '../root';
import { testContext } from '../testing';

// The baselines and indicators API over real storage (no collector in this process: changes take
// the storage path), as each role: import/export of the Kubescape fixture (lossless through
// storage), refused documents change nothing, allow with a reason (audited), indicators listed
// and explained.
const fixture = fs.readFileSync(path.join(import.meta.dirname, '../../baselines/testdata/kubescape-applicationprofile.yaml'), 'utf8');
const S = 1_000_000_000n;
const NOW = nowNs();
const T0 = NOW - 600n * S;
const W = 'cgroup/soc-test/wl-a';
const LOOP = '/opt/soc/syscall_loop';
const EXEC = 'node-a:0a1b2c3d:1000:100:1';

let dataDir: string;
let db: Db;
const as = (role: 'viewer' | 'analyst' | 'admin') => createCaller(testContext({ db, as: role, nowNs: NOW }));

async function refused(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-baselines-'));
  process.env.CHDB_PATH = dataDir;
  delete process.env.CLICKHOUSE_URL;
  delete process.env.SENSORS;
  db = await getDb();
  // A learned workload with one indicator, as the detector leaves them.
  const profile = (executable: string, over: Partial<ProfileRecord> = {}): ProfileRecord => ({
    workload: W, executable, workloadKind: 'cgroup', workloadNamespace: '', workloadName: 'soc-test/wl-a', workloadContainer: '', status: 'completed', version: 2,
    startedAtNs: T0.toString(), lastNewAtNs: (T0 + 2n * S).toString(), completedAtNs: (T0 + 6n * S).toString(), completedBy: 'window',
    minLearningNs: (4n * S).toString(), quietNs: (3n * S).toString(), maxLearningNs: (60n * S).toString(), entries: 2, updatedAtNs: T0.toString(), rowVersion: T0.toString(), ...over,
  });
  const entry = (executable: string, kind: EntryRecord['kind'], value: string): EntryRecord => ({
    workload: W, executable, kind, value, detail: kind === 'exec' ? '{"args":["syscall_loop"]}' : '{}', source: 'learned', tsNs: T0.toString(), profileVersion: 1, position: 0, node: 'node-a', execId: EXEC, actor: '', reason: '', indicatorId: '',
  });
  await insertProfiles(db, [profile('*', { entries: 1 }), profile(LOOP)]);
  await insertEntries(db, [entry('*', 'exec', LOOP), entry(LOOP, 'syscall', 'getppid'), entry(LOOP, 'syscall', 'io_uring_enter')]);
  const indicator: IndicatorRecord = {
    id: 'a1'.repeat(12), tsNs: (T0 + 60n * S).toString(), lastSeenNs: (T0 + 60n * S).toString(), count: '1', node: 'node-a', execId: EXEC, lastExecId: EXEC, execIds: [EXEC],
    workload: W, workloadKind: 'cgroup', executable: LOOP, kind: 'syscall', value: 'io_uring_setup', severity: 'high', deviation: true, rules: ['io_uring-first-use'],
    profileVersion: 2, profileStatus: 'completed', sentence: 'First syscall io_uring_setup by syscall_loop in cgroup/soc-test/wl-a: …',
    explanation: JSON.stringify({ profile: { startedAtNs: T0.toString() }, nearest: [] }), state: 'open', updatedAtNs: T0.toString(), rowVersion: T0.toString(),
  };
  await upsertIndicators(db, [indicator, { ...indicator, id: 'b2'.repeat(12), kind: 'endpoint', value: ':9000/tcp inbound', severity: 'low', rules: [], tsNs: (T0 + 70n * S).toString(), lastSeenNs: (T0 + 70n * S).toString() }]);
});

afterAll(async () => {
  await closeDb(await getDb()).catch(() => {});
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('indicators API', () => {
  const window = { from: (T0 - S).toString(), to: NOW.toString() };

  it('lists indicators newest first, with filters, for a viewer', async () => {
    const all = await as('viewer').indicators.list(window);
    expect(all).toMatchObject({ limit: 100, truncated: false });
    expect(all.indicators.map((i) => [i.kind, i.value])).toEqual([
      ['endpoint', ':9000/tcp inbound'],
      ['syscall', 'io_uring_setup'],
    ]);
    expect(all.indicators[1]).toMatchObject({ execId: EXEC, workload: W, severity: 'high', rules: [{ id: 'io_uring-first-use', title: 'io_uring in a workload that never used it' }], sentence: expect.stringContaining('io_uring_setup') });
    expect((await as('viewer').indicators.list({ ...window, severity: 'medium' })).indicators).toHaveLength(1);
    expect((await as('viewer').indicators.list({ ...window, kind: 'endpoint' })).indicators).toHaveLength(1);
    expect((await as('viewer').indicators.list({ ...window, workload: 'cgroup/elsewhere' })).indicators).toEqual([]);
    expect((await as('viewer').indicators.list({ ...window, limit: 1 })).truncated).toBe(true);
  });

  it('gets one indicator with its explanation, 404 for an unknown id, 400 for bad input', async () => {
    const one = await as('viewer').indicators.get({ id: 'a1'.repeat(12) });
    expect(one.explanation).toMatchObject({ profile: { startedAtNs: T0.toString() } });
    expect(one.execIds).toEqual([EXEC]);
    expect((await refused(as('viewer').indicators.get({ id: 'f'.repeat(24) }))).code).toBe('NOT_FOUND');
    expect((await refused(as('viewer').indicators.get({ id: 'x' }))).code).toBe('BAD_REQUEST');
    expect((await refused(as('viewer').indicators.list({ from: '2', to: '1' }))).code).toBe('BAD_REQUEST');
    expect((await refused(as('viewer').indicators.list({ ...window, workload: 'cgroup/../x' }))).code).toBe('BAD_REQUEST');
  });
});

describe('baselines API', () => {
  it('lists workloads and shows one with its profiles, learning window and indicators', async () => {
    const { workloads } = await as('viewer').baselines.list();
    expect(workloads).toEqual([expect.objectContaining({ workload: W, status: 'completed', profileCount: 2, entryCount: 3, imported: false, indicators: { open: 2, total: 2 } })]);
    const view = await as('viewer').baselines.get({ workload: W });
    expect(view.profiles.map((p) => [p.executable, p.status, p.version, p.entries.map((e) => e.value)])).toEqual([
      ['*', 'completed', 2, [LOOP]],
      [LOOP, 'completed', 2, ['getppid', 'io_uring_enter']],
    ]);
    expect(view.profiles[1]).toMatchObject({ startedAtNs: T0.toString(), completedAtNs: (T0 + 6n * S).toString(), completedBy: 'window', window: { minNs: (4n * S).toString() }, progress: { fraction: 1 } });
    expect(view.indicators.map((i) => i.value)).toEqual([':9000/tcp inbound', 'io_uring_setup']);
    expect((await refused(as('viewer').baselines.get({ workload: 'cgroup/none' }))).code).toBe('NOT_FOUND');
  });

  it('imports the Kubescape fixture (analyst, audited) and exports it back losslessly', async () => {
    expect((await refused(as('viewer').baselines.import({ yaml: fixture }))).code).toBe('FORBIDDEN');
    const result = await as('analyst').baselines.import({ yaml: fixture });
    expect(result.workloads).toEqual([{ workload: 'k8s/shop/checkout-api/api', container: 'api', entries: 46 + 2 + 4 + 2 }]);
    const view = await as('viewer').baselines.get({ workload: 'k8s/shop/checkout-api/api' });
    expect(view).toMatchObject({ status: 'completed', imported: true, kind: 'kubernetes', namespace: 'shop', name: 'checkout-api', container: 'api', importedDocument: { container: 'api', actor: 'analyst@test.invalid' } });
    expect(view.profiles[0]).toMatchObject({ executable: '*', status: 'completed', completedBy: 'import' });
    const exported = await as('viewer').baselines.export({ workload: 'k8s/shop/checkout-api/api' });
    expect(exported.filename).toBe('replicaset-checkout-api-7d9f8c6b5.yaml');
    expect(YAML.parse(exported.yaml)).toEqual(YAML.parse(fixture));
    // Importing it again changes nothing it holds: same entries, a new version.
    await as('analyst').baselines.import({ yaml: fixture });
    expect(YAML.parse((await as('viewer').baselines.export({ workload: 'k8s/shop/checkout-api/api' })).yaml)).toEqual(YAML.parse(fixture));
    const audit = await listAuditRecords(db, { fromNs: (NOW - S).toString(), toNs: (nowNs() + S).toString(), action: 'baselines.import', limit: 10 });
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ actorName: 'analyst@test.invalid', targetType: 'workload', targetId: 'k8s/shop/checkout-api/api' });
    const exports = await listAuditRecords(db, { fromNs: (NOW - S).toString(), toNs: (nowNs() + S).toString(), action: 'baselines.export', limit: 10 });
    expect(exports).toHaveLength(2);
    expect(exports[0]).toMatchObject({ actorName: 'viewer@test.invalid', targetType: 'workload', targetId: 'k8s/shop/checkout-api/api' });
  });

  it('exports a learned workload as a new ApplicationProfile', async () => {
    const exported = await as('viewer').baselines.export({ workload: W });
    const doc = YAML.parse(exported.yaml);
    expect(doc).toMatchObject({ apiVersion: 'spdx.softwarecomposition.kubescape.io/v1beta1', kind: 'ApplicationProfile', metadata: { name: 'cockpit-cgroup-soc-test-wl-a', annotations: { 'kubescape.io/status': 'completed', 'soc-cockpit.io/workload': W } } });
    expect(doc.spec.containers).toEqual([{ name: 'wl-a', syscalls: ['getppid', 'io_uring_enter'], execs: [{ path: LOOP, args: ['syscall_loop'] }] }]);
  });

  it.each([
    ['malformed YAML', 'apiVersion: [unclosed', /not valid YAML/],
    ['an unknown apiVersion', fixture.replace('apiVersion: spdx.softwarecomposition.kubescape.io/v1beta1', 'apiVersion: spdx.softwarecomposition.kubescape.io/v2'), /unknown apiVersion "spdx\.softwarecomposition\.kubescape\.io\/v2"/],
    ['a document without containers', fixture.replace(/ {2}containers:[\s\S]*?\n {2}initContainers/, '  containers: []\n  initContainers'), /no containers/],
  ])('refuses %s with a clear 400 and changes nothing', async (_what, yaml, message) => {
    const before = await countBaselineRows(db);
    const auditBefore = await listAuditRecords(db, { fromNs: '0', toNs: (nowNs() + S).toString(), limit: 1000 });
    const error = await refused(as('analyst').baselines.import({ yaml }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(getHTTPStatusCodeFromError(error)).toBe(400);
    expect(error.message).toMatch(message);
    expect(await countBaselineRows(db)).toEqual(before);
    expect(await listAuditRecords(db, { fromNs: '0', toNs: (nowNs() + S).toString(), limit: 1000 })).toHaveLength(auditBefore.length);
  });

  it('answers a refused import over HTTP with 400 and the reason', async () => {
    const token = (await createApiToken({ db, now: nowNs, config: authConfigFromEnv({}) }, { name: 'importer', role: 'analyst', expiresInDays: 1, createdBy: 'test' })).token;
    const response = await POST(
      new Request('http://cockpit.test/api/trpc/baselines.import', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ yaml: fixture.replace('kind: ApplicationProfile', 'kind: NetworkNeighborhood') }),
      }),
    );
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error).toMatchObject({ message: 'unknown kind "NetworkNeighborhood": expected ApplicationProfile', data: { code: 'BAD_REQUEST', httpStatus: 400, path: 'baselines.import' } });
  });

  it('imports into a named workload', async () => {
    const result = await as('analyst').baselines.import({ yaml: fixture, workload: 'cgroup/soc-e2e/imported' });
    expect(result.workloads.map((w) => w.workload)).toEqual(['cgroup/soc-e2e/imported']);
    expect((await as('viewer').baselines.get({ workload: 'cgroup/soc-e2e/imported' })).kind).toBe('cgroup');
  });

  it('allows an entry with a reason (analyst, audited): a new version, the indicator marked allowed', async () => {
    expect((await refused(as('viewer').baselines.allow({ workload: W, executable: LOOP, kind: 'syscall', value: 'io_uring_setup', reason: 'uses io_uring' }))).code).toBe('FORBIDDEN');
    expect((await refused(as('analyst').baselines.allow({ workload: W, executable: LOOP, kind: 'syscall', value: 'io_uring_setup', reason: 'no' }))).code).toBe('BAD_REQUEST');
    const result = await as('analyst').baselines.allow({ workload: W, executable: LOOP, kind: 'syscall', value: 'io_uring_setup', reason: 'the new release uses io_uring for disk I/O', indicatorId: 'a1'.repeat(12) });
    expect(result).toEqual({ workload: W, executable: LOOP, kind: 'syscall', value: 'io_uring_setup', version: 3, added: true, indicatorId: 'a1'.repeat(12) });
    const view = await as('viewer').baselines.get({ workload: W });
    const loop = view.profiles.find((p) => p.executable === LOOP)!;
    expect(loop.version).toBe(3);
    expect(loop.entries.find((e) => e.value === 'io_uring_setup')).toMatchObject({ source: 'allowed', actor: 'analyst@test.invalid', reason: 'the new release uses io_uring for disk I/O', indicatorId: 'a1'.repeat(12), profileVersion: 3 });
    expect((await as('viewer').indicators.get({ id: 'a1'.repeat(12) })).state).toBe('allowed');
    const audit = await listAuditRecords(db, { fromNs: (NOW - S).toString(), toNs: (nowNs() + S).toString(), action: 'baselines.allow', limit: 10 });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ kind: 'syscall', value: 'io_uring_setup', reason: 'the new release uses io_uring for disk I/O' });
  });

  it('refuses an allow for what does not exist or does not match its indicator', async () => {
    expect((await refused(as('analyst').baselines.allow({ workload: 'cgroup/none', kind: 'syscall', value: 'x', reason: 'because' }))).code).toBe('NOT_FOUND');
    expect((await refused(as('analyst').baselines.allow({ workload: W, executable: '/usr/bin/other', kind: 'syscall', value: 'x', reason: 'because' }))).code).toBe('NOT_FOUND');
    expect((await refused(as('analyst').baselines.allow({ workload: W, kind: 'syscall', value: 'ptrace', reason: 'because', indicatorId: 'b2'.repeat(12) }))).code).toBe('CONFLICT');
    expect((await refused(as('analyst').baselines.allow({ workload: W, kind: 'syscall', value: 'ptrace', reason: 'because', indicatorId: 'c3'.repeat(12) }))).code).toBe('NOT_FOUND');
  });
});
