import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../db/client';
import { upsertIndicators, type IndicatorRecord } from '../../../db/repositories/indicators';
import { storeEventBatch } from '../../../db/repositories/sensorStream';
import { selectRows } from '../../../db/query';
import { openTestDb } from '../../../db/testing';
import { FactKind, FactVia, type Event } from '../../../sensor/gen/soc/sensor/v1/sensor';
import { emptyFact } from '../../../sensor/src/kernel/decode';
import { silentLogger } from '../../../sensor/src/log';
import type { Role } from '../../auth/roles';
import { analyse, forgetAnalyses } from '../../investigations/analysis';
import { startAnalysisKeeper, storeSettledAnalyses } from '../../investigations/analysisKeeper';
import { encodeRef } from '../../investigations/refs';
import { analysisViews, storeAnalysis } from '../../investigations/storedAnalysis';
import { latestInvestigationAnalysis } from '../../../db/repositories/investigationAnalyses';
import { ZoomDirectory } from '../../zoom/directory';
import { DEFAULT_ZOOM_POLICY } from '../../zoom/policy';
import { ZoomService } from '../../zoom/service';
import { beaconFrame, beaconZoomEvents, fakeZoomControl } from '../../zoom/testing';
import { describeInputIssues, inputIssuesOf } from '../errors';
import { createCaller } from '../root';
import { eventBatch, eventFactory, testContext } from '../testing';

// The investigation page's procedures over real storage: each returns what its panel draws, for
// the reference attack (uring_beacon: io_uring open + read of a service-account token, then a
// length-prefixed frame every second to one destination) stored through the collector's unit
// protocol, with its process tree, the fact that raised the indicator and a sensor gap.
const NODE = 'node-i';
const SENSOR = 'sensor-i';
const S = 1_000_000_000n;
const NOW = BigInt(Date.now()) * 1_000_000n;
const T0 = NOW - 90n * S;
const ev = eventFactory(NODE, T0);
const exec = (start: number, pid: number) => `${NODE}:0a1b2c3d:${start}:${pid}:1`;
const ROOT = exec(10, 1);
const SHELL = exec(20, 300);
const BEACON_EXEC = exec(30, 4242);
const SIBLING = exec(40, 4300);
const CHILD = exec(50, 4400);
const BEACON = '/opt/test/uring_beacon';
const TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const TOKEN_TEXT = 'eyJhbGciOi.not-a-real-token\n';
const PAYLOAD = 'exfil:t0ken-bytes';
const INDICATOR_ID = 'abcdefabcdefabcdefabcdef';

let t: Awaited<ReturnType<typeof openTestDb>>;
let db: Db;
const directory = new ZoomDirectory();
const sensor = fakeZoomControl(SENSOR);
const service = new ZoomService({
  controls: { forSensor: (name) => (name === SENSOR ? sensor.control : null), sensorOfNode: (node) => (node === NODE ? SENSOR : null) },
  policy: () => DEFAULT_ZOOM_POLICY,
  directory,
  now: () => BigInt(Date.now()) * 1_000_000n,
  log: silentLogger,
});
const api = (role: Role) => createCaller(testContext({ db, as: role, zooms: service }));
let id = '';
let zoomId = '';
let zoomT0 = 0n;
let zoomEvents: Event[] = [];

function fact(atMs: number, name: string, kind: FactKind): Event {
  return {
    seq: '0', tsNs: ev.ns(atMs), node: NODE, execId: BEACON_EXEC, pid: 4242, tid: 4242,
    body: { $case: 'fact', value: { ...emptyFact(), workload: 'cgroup/soc-test/app', kind, name, number: kind === FactKind.FACT_KIND_SYSCALL ? 425 : 0, via: FactVia.FACT_VIA_SYSCALL } },
  };
}

/** The API's answer to a call that must fail: its code, HTTP status and message as sent over HTTP. */
async function refusal(call: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await call;
  } catch (e) {
    if (!(e instanceof TRPCError)) throw e;
    const issues = e.code === 'BAD_REQUEST' ? inputIssuesOf(e.cause) : null;
    return { code: e.code, status: getHTTPStatusCodeFromError(e), message: issues ? describeInputIssues(issues) : e.message };
  }
  throw new Error('the call succeeded');
}

const auditOf = (action: string) =>
  selectRows<{ outcome: string; actor: string; target: string; detail: string }>(db, {
    sql: 'SELECT toString(outcome) AS outcome, actor_name AS actor, target_id AS target, detail FROM audit_log WHERE action = {a:String} ORDER BY ts',
    params: { a: action },
    tag: 'test',
  });

beforeAll(async () => {
  t = await openTestDb();
  db = t.db;
  await storeEventBatch(
    db,
    eventBatch(SENSOR, 'e1', 1, [
      ev.exec(ROOT, '', 1, 0, 0, '/sbin/init', ['/sbin/init'], { uid: 0 }),
      ev.exec(SHELL, ROOT, 300, 1, 100, '/bin/bash', ['bash', '-l'], { uid: 0 }),
      ev.exec(BEACON_EXEC, SHELL, 4242, 300, 1000, BEACON, [BEACON, '--connect', '10.0.3.7:4444'], { containerId: 'c0ffee' }),
      ev.exec(SIBLING, SHELL, 4300, 300, 1100, '/usr/bin/sleep', ['sleep', '1']),
      ev.exit(SIBLING, 4300, 2100, 0),
      fact(30_000, 'io_uring_setup', FactKind.FACT_KIND_SYSCALL),
      ev.exec(CHILD, BEACON_EXEC, 4400, 4242, 31_000, '/bin/sh', ['sh', '-c', 'id']),
    ]),
    NOW,
  );
  // 5 events the sensor no longer held, then 3 lost in the kernel: the gaps lane must show them.
  await storeEventBatch(db, eventBatch(SENSOR, 'e1', 13, [fact(32_000, 'OPENAT', FactKind.FACT_KIND_IO_URING_OP)], { gap: true, missing: '5' }), NOW);
  await storeEventBatch(db, eventBatch(SENSOR, 'e1', 14, [ev.exit(CHILD, 4400, 33_000, 0)], { droppedKernel: '3', dropped: '3' }), NOW);
  const indicator: IndicatorRecord = {
    id: INDICATOR_ID, tsNs: ev.ns(30_000), lastSeenNs: ev.ns(30_000), count: '1', node: NODE, execId: BEACON_EXEC, lastExecId: BEACON_EXEC, execIds: [BEACON_EXEC],
    workload: 'cgroup/soc-test/app', workloadKind: 'cgroup', executable: BEACON, kind: 'syscall', value: 'io_uring_setup', severity: 'high',
    deviation: true, rules: ['io_uring-first-use'], profileVersion: 2, profileStatus: 'completed', sentence: 'First syscall io_uring_setup by uring_beacon.',
    explanation: '{}', state: 'open', updatedAtNs: ev.ns(30_000), rowVersion: '1',
  };
  await upsertIndicators(db, [indicator]);
  const [outcome] = await service.onIndicators(db, [indicator]);
  if (outcome?.outcome !== 'ordered') throw new Error(`the indicator did not zoom: ${JSON.stringify(outcome)}`);
  id = outcome.investigationId;
  zoomId = outcome.zoom!.id;
  zoomT0 = BigInt(sensor.zooms.get(zoomId)!.orderedAtNs);
  const events = beaconZoomEvents({
    node: NODE, execId: BEACON_EXEC, pid: 4242, zoomId, investigationId: id, t0Ns: zoomT0,
    tokenPath: TOKEN, token: TOKEN_TEXT, binary: BEACON, destination: { address: '10.0.3.7', port: 4444 }, frames: 6, intervalMs: 1000, payload: PAYLOAD,
  });
  await storeEventBatch(db, eventBatch(SENSOR, 'e1', 15, events), NOW, directory);
  zoomEvents = events;
});

afterAll(async () => {
  await t?.close();
});

const at = (offsetMs: number) => (zoomT0 + BigInt(Math.round(offsetMs * 1e6))).toString();

describe('investigations.timeline', () => {
  it('draws every lane of the whole investigation: from the process start to the zoom end, with the gaps', async () => {
    const tl = await api('viewer').investigations.timeline({ id });
    expect(tl.range).toEqual({ fromNs: ev.ns(1000), toNs: at(6100) });
    expect(tl.window).toEqual(tl.range);
    const { lanes } = tl;
    expect([lanes.process.total, lanes.ioUring.total, lanes.network.total, lanes.files.total, lanes.zooms.total, lanes.gaps.total]).toEqual([2, 12, 8, 3, 1, 2]);
    // The beacon's exec and the child it started, each one row with its ref.
    expect(lanes.process.points.map((p) => [p.tsNs, p.label, p.count, p.execId])).toEqual([
      [ev.ns(1000), `exec ${BEACON} [4242]`, 1, BEACON_EXEC],
      [ev.ns(31_000), 'exec /bin/sh [4400]', 1, CHILD],
    ]);
    expect(lanes.process.points[0]!.ref).toBe(encodeRef({ table: 'process_events', node: NODE, execId: BEACON_EXEC, tsNs: ev.ns(1000), epoch: 'e1', seq: '3' }));
    // The fact that raised the indicator heads the io_uring lane.
    expect(lanes.ioUring.points[0]).toMatchObject({ tsNs: ev.ns(30_000), label: 'io_uring_setup (fact)', count: 1 });
    expect(lanes.ioUring.points.reduce((n, p) => n + p.count, 0)).toBe(12);
    expect(lanes.zooms.points).toEqual([
      { tsNs: (zoomT0 + 2_000_000n).toString(), endNs: at(6100), execId: BEACON_EXEC, label: 'IO_URING+NETWORK+FILES+CODE · expired', ref: encodeRef({ table: 'zooms', zoomId }), count: 1 },
    ]);
    expect(lanes.gaps.points.map((p) => p.label).sort()).toEqual(['3 events lost (kernel drop, sensor sensor-i)', '5 events lost (seq gap, sensor sensor-i)'].sort());
  });

  it('a brushed window returns its rows one by one, each with a ref that resolves', async () => {
    const tl = await api('viewer').investigations.timeline({ id, from: at(9), to: at(13) });
    expect(tl.window).toEqual({ fromNs: at(9), toNs: at(13) });
    expect(tl.lanes.ioUring).toMatchObject({ total: 3, truncated: false });
    expect(tl.lanes.ioUring.points.map((p) => [p.tsNs, p.label, p.count])).toEqual([
      [at(10), `OPENAT ${TOKEN}`, 1],
      [at(11), `READ ${TOKEN} · ${TOKEN_TEXT.length} B`, 1],
      [at(12), `CLOSE ${TOKEN}`, 1],
    ]);
    expect(tl.lanes.files.points.map((p) => p.label)).toEqual([`open ${TOKEN} · io_uring`, `read ${TOKEN} · ${TOKEN_TEXT.length} B · io_uring`, `close ${TOKEN} · io_uring`]);
    expect([tl.lanes.network.total, tl.lanes.process.total, tl.lanes.gaps.total]).toEqual([0, 0, 0]);
    const read = await api('viewer').investigations.event({ id, ref: tl.lanes.files.points[1]!.ref! });
    expect(read).toMatchObject({ table: 'file_accesses', tsNs: at(11.01), execId: BEACON_EXEC, summary: `read ${TOKEN} · ${TOKEN_TEXT.length} B (io_uring)` });
    expect(read.fields).toMatchObject({ path: TOKEN, op: 'read', via: 'io_uring', bytes: String(TOKEN_TEXT.length), zoom_id: zoomId, investigation_id: id });
  });

  it('many rows in a wide window come back bucketed: few points, every row counted', async () => {
    // 1 ns wide buckets are impossible here: the whole beacon falls in a handful of 1500ths of a day.
    const tl = await api('viewer').investigations.timeline({ id, from: (NOW - 86_400n * S).toString(), to: (NOW + 3_600n * S).toString() });
    expect(tl.lanes.ioUring.total).toBe(12);
    expect(tl.lanes.ioUring.truncated).toBe(true);
    expect(tl.lanes.ioUring.points.length).toBeLessThan(12);
    const bucket = tl.lanes.ioUring.points.find((p) => p.count > 1)!;
    expect(bucket.ref).toBeNull();
    expect(bucket.label).toMatch(/^\d+ events \(first: /);
  });

  it('focusing a process narrows the evidence lanes to it', async () => {
    const tl = await api('viewer').investigations.timeline({ id, execId: CHILD });
    expect([tl.lanes.ioUring.total, tl.lanes.network.total, tl.lanes.files.total]).toEqual([0, 0, 0]);
    expect(tl.lanes.process.points.map((p) => p.label)).toEqual(['exec /bin/sh [4400]', 'exit [4400] code 0']);
  });
});

describe('investigations.ancestry', () => {
  it('the chain from the root to the indicator process, its siblings and children, with users and containers', async () => {
    const a = await api('viewer').investigations.ancestry({ id });
    expect(a.focusExecId).toBe(BEACON_EXEC);
    expect(a.indicatorExecId).toBe(BEACON_EXEC);
    expect(a.chain.map((p) => [p.execId, p.binary, p.user, p.uid])).toEqual([
      [ROOT, '/sbin/init', 'root', 0],
      [SHELL, '/bin/bash', 'root', 0],
      [BEACON_EXEC, BEACON, '1000', 1000],
    ]);
    expect(a.chain[2]).toMatchObject({ parentExecId: SHELL, node: NODE, pid: 4242, ppid: 300, argv: [BEACON, '--connect', '10.0.3.7:4444'], cwd: '/home/analyst', container: 'c0ffee', pod: '', startNs: ev.ns(1000), exitNs: null, exitCode: null });
    expect(a.siblings.map((p) => [p.execId, p.binary, p.exitNs, p.exitCode])).toEqual([[SIBLING, '/usr/bin/sleep', ev.ns(2100), 0]]);
    expect(a.children.map((p) => [p.execId, p.argv])).toEqual([[CHILD, ['sh', '-c', 'id']]]);
  });

  it('focuses another process; an unknown one is a 404', async () => {
    const a = await api('viewer').investigations.ancestry({ id, execId: SHELL });
    expect(a).toMatchObject({ focusExecId: SHELL, indicatorExecId: BEACON_EXEC });
    expect(a.chain.map((p) => p.execId)).toEqual([ROOT, SHELL]);
    expect(a.children.map((p) => p.execId)).toEqual([BEACON_EXEC, SIBLING]);
    expect(a.siblings).toEqual([]);
    expect(await refusal(api('viewer').investigations.ancestry({ id, execId: exec(99, 9999) }))).toEqual({ code: 'NOT_FOUND', status: 404, message: `no process ${exec(99, 9999)} (nothing stored of it)` });
  });
});

describe('investigations.network, files, code', () => {
  it('network: contact times, intervals and the captured prefixes in hex and ASCII', async () => {
    const net = await api('viewer').investigations.network({ id });
    expect(net.destinations).toHaveLength(1);
    const d = net.destinations[0]!;
    expect(d).toMatchObject({ address: '10.0.3.7', port: 4444, contacts: 6, intervalMedianMs: 1000, payloadFormat: 'length_prefixed', viaIoUringOnly: true });
        // The first contact opens with the connect, the others with their frame's send.
    expect(d.contactsNs).toEqual([at(99.01), ...[1, 2, 3, 4, 5].map((i) => at(100.01 + i * 1000))]);
    expect(d.intervalsMs).toEqual([1001, 1000, 1000, 1000, 1000]);
    const frame = beaconFrame(0, PAYLOAD);
    expect(d.prefixes.length).toBeGreaterThanOrEqual(6);
    const first = d.prefixes[0]!;
    expect(first).toMatchObject({ tsNs: at(100.01), bytes: frame.length, hex: frame.toString('hex').toUpperCase(), ascii: `....BCN1....${PAYLOAD}` });
    const resolved = await api('viewer').investigations.event({ id, ref: first.ref });
    expect(resolved.fields.payload_prefix).toBe(frame.toString('hex').toUpperCase());
  });

  it('network, files and code narrow to a time range and to one process', async () => {
    const net = await api('viewer').investigations.network({ id, from: at(1000), to: at(3500) });
    expect(net.destinations[0]).toMatchObject({ contacts: 3, contactsNs: [at(1100.01), at(2100.01), at(3100.01)], intervalsMs: [1000, 1000] });
    expect((await api('viewer').investigations.network({ id, execId: CHILD })).destinations).toEqual([]);
    const files = await api('viewer').investigations.files({ id, to: at(10.5) });
    expect(files.files.map((f) => [f.path, f.op, f.count])).toEqual([[TOKEN, 'open', 1]]);
    expect((await api('viewer').investigations.files({ id })).files.map((f) => f.op)).toEqual(['open', 'read']);
    expect((await api('viewer').investigations.code({ id })).modules.map((m) => m.path)).toEqual([BEACON]);
    expect((await api('viewer').investigations.code({ id, execId: CHILD })).modules).toEqual([]);
  });

  it('refuses a window that ends before it starts, and a malformed exec id (400, readable)', async () => {
    expect(await refusal(api('viewer').investigations.files({ id, from: at(10), to: at(5) }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: to: must not be before from' });
    expect(await refusal(api('viewer').investigations.network({ id, execId: 'pid 4242' }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: execId: not an exec id (node:boot:start_ns:pid:exec_count)' });
    expect(await refusal(api('viewer').investigations.timeline({ id, from: '-1' }))).toMatchObject({ code: 'BAD_REQUEST', status: 400, message: expect.stringMatching(/^invalid input: from: must be nanoseconds/) });
  });
});

describe('investigations.evidenceTree and event', () => {
  it('indicator → findings → the rows each rests on, every row resolvable', async () => {
    const tree = await api('viewer').investigations.evidenceTree({ id });
    expect(tree.indicators.map((i) => [i.id, i.kind, i.value, i.severity])).toEqual([[INDICATOR_ID, 'syscall', 'io_uring_setup', 'high']]);
    const kinds = tree.findings.map((f) => f.kind).sort();
    expect(tree.findings.map((f) => [f.kind, f.severity, f.rowsTotal, f.rows.length])).toEqual([
      ['io_uring_usage', 'critical', 10, 10],
      ['sensitive_file', 'high', 2, 2],
      ['beaconing', 'high', 7, 7],
      ['payload_format', 'medium', 6, 6],
      ['network_destination', 'medium', 7, 7],
    ]);
    expect(kinds).toEqual(['beaconing', 'io_uring_usage', 'network_destination', 'payload_format', 'sensitive_file']);
    const token = tree.findings.find((f) => f.kind === 'sensitive_file')!;
    expect(token.subject).toBe('/run/secrets/kubernetes.io/serviceaccount/token'); // the analyzers' canonical path
    expect(token.rowsTotal).toBe(token.rows.length);
    expect(token.rows.map((r) => [r.table, r.summary])).toEqual(
      expect.arrayContaining([
        ['file_accesses', `open ${TOKEN} (io_uring)`],
        ['file_accesses', `read ${TOKEN} · ${TOKEN_TEXT.length} B (io_uring)`],
      ]),
    );
    const beacon = tree.findings.find((f) => f.kind === 'beaconing')!;
    expect(beacon.rows.filter((r) => r.table === 'socket_events' && r.summary.startsWith('send 10.0.3.7:4444/tcp'))).toHaveLength(6);
    for (const row of [...token.rows, ...beacon.rows]) {
      const e = await api('viewer').investigations.event({ id, ref: row.ref });
      expect([e.table, e.tsNs, e.execId, e.summary]).toEqual([row.table, row.tsNs, row.execId, row.summary]);
    }
  });

  it('resolves refs to process, gap and zoom rows; an unknown ref or investigation is a 404, a malformed one a 400', async () => {
    const tl = await api('viewer').investigations.timeline({ id });
    const exec = await api('viewer').investigations.event({ id, ref: tl.lanes.process.points[0]!.ref! });
    expect(exec).toMatchObject({ table: 'process_events', execId: BEACON_EXEC, summary: `exec ${BEACON} [4242]` });
    expect(exec.fields).toMatchObject({ kind: 'exec', binary: BEACON, argv: JSON.stringify([BEACON, '--connect', '10.0.3.7:4444']), pid: '4242', container_id: 'c0ffee' });
    const gap = tl.lanes.gaps.points.find((p) => p.label.startsWith('5 events'))!;
    expect(await api('viewer').investigations.event({ id, ref: gap.ref! })).toMatchObject({ table: 'sensor_gaps', summary: 'seq gap: 5 events lost (sensor sensor-i)', fields: { count: '5', from_seq: '8', to_seq: '12' } });
    expect(await api('viewer').investigations.event({ id, ref: tl.lanes.zooms.points[0]!.ref! })).toMatchObject({ table: 'zooms', fields: { zoom_id: zoomId, status: 'expired' } });
    const missing = encodeRef({ table: 'file_accesses', tsNs: at(11.01), zoomId, seq: '999999' });
    expect(await refusal(api('viewer').investigations.event({ id, ref: missing }))).toEqual({ code: 'NOT_FOUND', status: 404, message: `no row ${missing} in file_accesses of investigation ${id}` });
    expect(await refusal(api('viewer').investigations.event({ id, ref: 'q-AAAA' }))).toEqual({ code: 'NOT_FOUND', status: 404, message: 'no row q-AAAA (not a ref the investigation page made)' });
    expect(await refusal(api('viewer').investigations.event({ id, ref: 'not a ref!' }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: ref: a row ref (as the investigation procedures return it)' });
    // Evidence of one investigation does not resolve under another.
    const other = 'f'.repeat(24);
    expect(await refusal(api('viewer').investigations.event({ id: other, ref: missing }))).toEqual({ code: 'NOT_FOUND', status: 404, message: `no investigation ${other}` });
    for (const call of [
      () => api('viewer').investigations.timeline({ id: other }),
      () => api('viewer').investigations.ancestry({ id: other }),
      () => api('viewer').investigations.evidenceTree({ id: other }),
      () => api('viewer').investigations.network({ id: other, execId: CHILD }),
    ]) {
      expect(await refusal(call())).toEqual({ code: 'NOT_FOUND', status: 404, message: `no investigation ${other}` });
    }
  });
});

describe('investigations.setVerdict and addNote', () => {
  it('start with no verdict and no notes', async () => {
    expect(await api('viewer').investigations.get({ id })).toMatchObject({ verdict: null, notes: [] });
    expect((await api('viewer').investigations.list()).investigations.find((i) => i.id === id)).toMatchObject({ verdict: null });
  });

  it('a viewer may neither set a verdict nor add a note (403, audited as denied)', async () => {
    expect(await refusal(api('viewer').investigations.setVerdict({ id, verdict: 'malicious', reason: 'exfiltration' }))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(await refusal(api('viewer').investigations.addNote({ id, text: 'seen' }))).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    const denied = (await auditOf('authz.denied')).map((a) => a.target);
    expect(denied).toEqual(expect.arrayContaining(['investigations.setVerdict', 'investigations.addNote']));
    expect(await api('viewer').investigations.get({ id })).toMatchObject({ verdict: null, notes: [] });
  });

  it('refuses bad input with a readable 400, and an unknown investigation with a 404', async () => {
    const analyst = api('analyst');
    expect(await refusal(analyst.investigations.setVerdict({ id, verdict: 'suspicious' as never, reason: 'x' }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: verdict: one of benign, malicious, inconclusive' });
    expect(await refusal(analyst.investigations.setVerdict({ id, verdict: 'benign', reason: '   ' }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: reason: a reason is required' });
    expect(await refusal(analyst.investigations.setVerdict({ id, verdict: 'benign', reason: 'x'.repeat(2001) }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: reason: at most 2000 characters' });
    expect(await refusal(analyst.investigations.addNote({ id, text: '' }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: text: the text is required' });
    expect(await refusal(analyst.investigations.addNote({ id, text: 'y'.repeat(5001) }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: text: at most 5000 characters' });
    expect(await refusal(analyst.investigations.addNote({ id: 'nope', text: 'a' }))).toEqual({ code: 'BAD_REQUEST', status: 400, message: 'invalid input: id: an investigation id (24 hex digits)' });
    const other = '0'.repeat(24);
    expect(await refusal(analyst.investigations.setVerdict({ id: other, verdict: 'benign', reason: 'r' }))).toEqual({ code: 'NOT_FOUND', status: 404, message: `no investigation ${other}` });
    expect(await refusal(analyst.investigations.addNote({ id: other, text: 'a' }))).toEqual({ code: 'NOT_FOUND', status: 404, message: `no investigation ${other}` });
    expect(await auditOf('investigations.verdict')).toEqual([]);
    expect(await auditOf('investigations.note')).toEqual([]);
  });

  it('an analyst sets the verdict and adds notes: who and when recorded, the newest verdict current, every change audited', async () => {
    const first = await api('analyst').investigations.setVerdict({ id, verdict: 'inconclusive', reason: '  token read, destination unknown  ' });
    expect(first).toMatchObject({ value: 'inconclusive', reason: 'token read, destination unknown', by: 'analyst@test.invalid' });
    const note1 = await api('analyst').investigations.addNote({ id, text: 'asked the app team about 10.0.3.7' });
    const note2 = await api('admin').investigations.addNote({ id, text: 'no such service: beacon confirmed' });
    const second = await api('admin').investigations.setVerdict({ id, verdict: 'malicious', reason: 'service-account token sent every second to 10.0.3.7:4444' });
    expect(BigInt(second.atNs)).toBeGreaterThan(BigInt(first.atNs));
    const detail = await api('viewer').investigations.get({ id });
    expect(detail.verdict).toEqual({ value: 'malicious', reason: 'service-account token sent every second to 10.0.3.7:4444', by: 'admin@test.invalid', atNs: second.atNs });
    // The list carries the current verdict too.
    expect((await api('viewer').investigations.list()).investigations.find((i) => i.id === id)!.verdict).toEqual(detail.verdict);
    expect(detail.notes).toEqual([
      { id: note1.id, author: 'analyst@test.invalid', atNs: note1.atNs, text: 'asked the app team about 10.0.3.7' },
      { id: note2.id, author: 'admin@test.invalid', atNs: note2.atNs, text: 'no such service: beacon confirmed' },
    ]);
    const verdicts = await auditOf('investigations.verdict');
    expect(verdicts.map((a) => [a.outcome, a.actor, a.target])).toEqual([
      ['success', 'analyst@test.invalid', id],
      ['success', 'admin@test.invalid', id],
    ]);
    expect(JSON.parse(verdicts[1]!.detail)).toMatchObject({ verdict: 'malicious', reason: 'service-account token sent every second to 10.0.3.7:4444' });
    const notes = await auditOf('investigations.note');
    expect(notes.map((a) => [a.actor, a.target, JSON.parse(a.detail).noteId])).toEqual([
      ['analyst@test.invalid', id, note1.id],
      ['admin@test.invalid', id, note2.id],
    ]);
    // History stays: both verdicts are stored, with who and when.
    const history = await selectRows<{ verdict: string; actor_name: string }>(db, {
      sql: 'SELECT toString(verdict) AS verdict, actor_name FROM investigation_verdicts WHERE investigation_id = {id:String} ORDER BY ts',
      params: { id },
      tag: 'test',
    });
    expect(history).toEqual([
      { verdict: 'inconclusive', actor_name: 'analyst@test.invalid' },
      { verdict: 'malicious', actor_name: 'admin@test.invalid' },
    ]);
  });

  it('migration 0006 left investigations.verdict as none | benign | malicious | inconclusive', async () => {
    const [column] = await selectRows<{ type: string }>(db, { sql: "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'investigations' AND name = 'verdict'", tag: 'test' });
    expect(column!.type).toBe("Enum8('none' = 0, 'benign' = 1, 'malicious' = 3, 'inconclusive' = 4)");
  });
});

describe('stored analyses: an ended investigation is analysed once, and first views read it', () => {
  // The zoom ended at 6.1 s after its start; evidence is settled 10 s later.
  const settled = () => BigInt(at(60_000));
  const storedRows = () => selectRows<{ n: string }>(db, { sql: 'SELECT toString(count()) AS n FROM investigation_analyses WHERE investigation_id = {id:String}', params: { id }, tag: 'test' });

  it('stores nothing while the zoom runs or its evidence may still arrive', async () => {
    expect((await storeAnalysis(db, id, BigInt(at(3000)))).outcome).toBe('unsettled');
    expect((await storeAnalysis(db, id, BigInt(at(12_000)))).outcome).toBe('unsettled'); // ended 5.9 s ago
    expect(await storedRows()).toEqual([{ n: '0' }]);
  });

  it('the keeper finds the investigation by its zoom end and stores its analysis once', async () => {
    const range = { fromNs: at(0), toNs: at(30_000) };
    const pass = await storeSettledAnalyses(db, range, settled());
    expect(pass.results.map((r) => [r.investigationId, r.endedNs, r.outcome, r.evidenceRows])).toEqual([[id, at(6100), 'stored', 10 + 8 + 3 + 1]]);
    // A second pass (another cockpit, a restart) finds it current: nothing stored again.
    expect((await storeSettledAnalyses(db, range, settled())).results.map((r) => r.outcome)).toEqual(['current']);
    expect(await storedRows()).toEqual([{ n: '1' }]);
    // A zoom end outside the range is not looked at.
    expect((await storeSettledAnalyses(db, { fromNs: at(6100), toNs: at(30_000) }, settled())).results).toEqual([]);
  });

  it('a first view reads the stored analysis: the same views the analysis gives', async () => {
    forgetAnalyses(db);
    const first = await analysisViews(db, id, settled());
    expect(first.source).toBe('stored');
    forgetAnalyses(db);
    // What the analysis of the evidence gives now (the stored row is ignored for a moment by
    // asking for a narrowing that covers everything: the analysis path).
    const everything = { id, from: at(-10_000), to: at(60_000) };
    const viewer = createCaller(testContext({ db, as: 'viewer', zooms: service, nowNs: settled() }));
    const [network, files, code] = await Promise.all([viewer.investigations.network(everything), viewer.investigations.files(everything), viewer.investigations.code(everything)]);
    expect(first.views.network.destinations).toEqual(network.destinations);
    expect(first.views.files).toEqual(files);
    expect(first.views.code).toEqual(code);
    expect(first.views.network.destinations[0]).toMatchObject({ address: '10.0.3.7', port: 4444, contacts: 6, intervalMedianMs: 1000, payloadFormat: 'length_prefixed' });
    // The procedures answer from it.
    forgetAnalyses(db);
    const tree = await viewer.investigations.evidenceTree({ id });
    expect(tree.findings.map((f) => f.kind).sort()).toEqual(['beaconing', 'io_uring_usage', 'network_destination', 'payload_format', 'sensitive_file']);
    expect((await viewer.investigations.get({ id })).findings).toEqual(first.views.findings);
  });

  it('a narrowed view reads only its rows from storage when nothing is kept, and answers as narrowing the kept analysis does', async () => {
    const viewer = createCaller(testContext({ db, as: 'viewer', zooms: service, nowNs: settled() }));
    const panels = (input: { id: string; from?: string; to?: string; execId?: string }) =>
      Promise.all([viewer.investigations.network(input), viewer.investigations.files(input), viewer.investigations.code(input)]);
    const inputs = [{ id, from: at(1000), to: at(3500) }, { id, execId: CHILD }, { id, to: at(10.5) }, { id, execId: BEACON_EXEC, from: at(-5000), to: at(11.5) }, { id, from: at(7000) }];
    for (const input of inputs) {
      forgetAnalyses(db);
      const fromStorage = await panels(input);
      forgetAnalyses(db);
      await analyse(db, id, settled()); // the whole analysis kept: narrowed in memory
      const inMemory = await panels(input);
      expect(fromStorage).toEqual(inMemory);
    }
    forgetAnalyses(db);
    const [net, files] = await panels(inputs[0]!);
    expect(net.destinations[0]).toMatchObject({ contacts: 3, contactsNs: [at(1100.01), at(2100.01), at(3100.01)], intervalsMs: [1000, 1000] });
    expect(files.files).toEqual([]);
    forgetAnalyses(db);
    const [empty] = await panels(inputs[4]!);
    expect(empty.destinations).toEqual([]);
  });

  it('a late evidence row changes the key: the stored analysis is not served but analysed again and stored anew', async () => {
    const before = (await latestInvestigationAnalysis(db, id))!;
    // One more read of the token, stored after the analysis (a unit that arrived late).
    const read = zoomEvents.find((e) => e.body?.$case === 'fileAccess' && e.body.value.bytes !== '0')!;
    await storeEventBatch(db, eventBatch(SENSOR, 'e1', 15 + zoomEvents.length, [{ ...read, tsNs: at(5000) }]), NOW, directory);
    forgetAnalyses(db);
    const v = await analysisViews(db, id, settled());
    expect(v.source).toBe('computed');
    expect(v.views.files.files.find((f) => f.op === 'read' && f.path === TOKEN)).toMatchObject({ count: 2, bytes: 2 * TOKEN_TEXT.length });
    const outcome = (await storeAnalysis(db, id, settled())).outcome;
    expect(['stored', 'current']).toContain(outcome); // 'current' when the view's background write came first
    const after = (await latestInvestigationAnalysis(db, id))!;
    expect(after.evidenceKey).not.toBe(before.evidenceKey);
    expect(after.evidenceRows).toBe('23');
    forgetAnalyses(db);
    expect((await analysisViews(db, id, settled())).source).toBe('stored');
  });

  it('a stored analysis that cannot be read back is ignored: analysed again from the evidence, nothing lost', async () => {
    const current = (await latestInvestigationAnalysis(db, id))!;
    await db.client.command({ query: 'ALTER TABLE investigation_analyses DELETE WHERE investigation_id = {id:String} SETTINGS mutations_sync = 2', query_params: { id } });
    await db.client.command({
      query: `INSERT INTO investigation_analyses (investigation_id, evidence_key, computed_at, compute_ms, evidence_rows, views)
              VALUES ({id:String}, {key:String}, now64(9), 1, 23, '{"findings": [trunc')`,
      query_params: { id, key: current.evidenceKey },
    });
    forgetAnalyses(db);
    const v = await analysisViews(db, id, BigInt(at(61_000)));
    expect(v.source).toBe('computed');
    expect(v.views.network.destinations[0]).toMatchObject({ contacts: 6, intervalMedianMs: 1000 });
    // The view stored what it computed in the background: the unreadable row is replaced.
    await vi.waitFor(async () => expect(JSON.parse((await latestInvestigationAnalysis(db, id))!.views)).toMatchObject({ findings: v.views.findings }), { timeout: 10_000 });
  });

  it('the keeper started beside the collector stores what ended while it was away, and stops cleanly', async () => {
    await db.client.command({ query: 'ALTER TABLE investigation_analyses DELETE WHERE investigation_id = {id:String} SETTINGS mutations_sync = 2', query_params: { id } });
    const logged: string[] = [];
    const log = { ...silentLogger, info: (msg: string) => void logged.push(msg) };
    const stop = startAnalysisKeeper({ db: async () => db, log, intervalMs: 20, now: () => BigInt(at(62_000)) });
    try {
      await vi.waitFor(async () => expect(await latestInvestigationAnalysis(db, id)).not.toBeNull(), { timeout: 10_000 });
    } finally {
      await stop();
    }
    expect(logged).toContain('investigation analysis stored');
    forgetAnalyses(db);
    expect((await analysisViews(db, id, BigInt(at(62_000)))).source).toBe('stored');
  });
});
