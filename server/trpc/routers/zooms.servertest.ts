import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { status as grpc } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../db/client';
import type { IndicatorRecord } from '../../../db/repositories/indicators';
import { upsertIndicators } from '../../../db/repositories/indicators';
import { storeEventBatch } from '../../../db/repositories/sensorStream';
import { selectRows } from '../../../db/query';
import { openTestDb } from '../../../db/testing';
import { ProbeSet } from '../../../sensor/gen/soc/sensor/v1/sensor';
import { silentLogger } from '../../../sensor/src/log';
import type { Role } from '../../auth/roles';
import { ZoomDirectory } from '../../zoom/directory';
import { DEFAULT_ZOOM_POLICY } from '../../zoom/policy';
import { investigationIdFor, ZoomService } from '../../zoom/service';
import { beaconFrame, beaconZoomEvents, fakeZoomControl } from '../../zoom/testing';
import { createCaller } from '../root';
import { describeInputIssues, inputIssuesOf } from '../errors';
import { eventBatch, eventFactory, testContext } from '../testing';

// The zoom and investigation procedures over real storage, with a stand-in for the sensor's zoom
// control (the live test, server/zoom/zoom.livetest.ts, orders the real sensor over mTLS): orders
// and their refusals (the cockpit's and the sensor's) with clear errors, nothing recorded as
// active for a refused order, audit events for orders and cancels, automatic zooms on indicators,
// and the analyzers' answers over evidence stored through the unit protocol.
const NODE = 'node-q';
const SENSOR = 'sensor-q';
const NOW = BigInt(Date.now()) * 1_000_000n;
const ev = eventFactory(NODE, NOW - 120_000_000_000n);
const RUNNING = `${NODE}:0a1b2c3d:1000:4242:1`;
const EXITED = `${NODE}:0a1b2c3d:2000:4343:1`;
const BEACON = '/opt/test/uring_beacon';
const TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

let t: Awaited<ReturnType<typeof openTestDb>>;
let db: Db;
let dir: string;
const directory = new ZoomDirectory();
let refuseNext: { code: number; details: string } | null = null;
const sensor = fakeZoomControl(SENSOR, { refuse: () => refuseNext });
const service = new ZoomService({
  controls: { forSensor: (name) => (name === SENSOR ? sensor.control : null), sensorOfNode: (node) => (node === NODE ? SENSOR : null) },
  policy: () => DEFAULT_ZOOM_POLICY,
  directory,
  now: () => BigInt(Date.now()) * 1_000_000n,
  log: silentLogger,
});
const api = (role: Role) => createCaller(testContext({ db, as: role, zooms: service }));

async function rows<T>(sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return selectRows<T>(db, { sql, params, tag: 'test' });
}
const auditOf = (action: string) =>
  rows<{ outcome: string; actor: string; target: string; detail: string }>(
    "SELECT toString(outcome) AS outcome, actor_name AS actor, target_id AS target, detail FROM audit_log WHERE action = {a:String} ORDER BY ts",
    { a: action },
  );
const activeZooms = async () => (await api('viewer').zooms.list()).zooms.filter((z) => z.status === 'active');

beforeAll(async () => {
  t = await openTestDb();
  db = t.db;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-zooms-api-'));
  const serviceMap = path.join(dir, 'services.yaml');
  fs.writeFileSync(serviceMap, 'services:\n  - name: metrics-gateway.ops\n    address: 10.0.3.7\n    port: 4444\n    protocol: tcp\n');
  process.env.SERVICE_MAP_FILE = serviceMap;
  await storeEventBatch(
    db,
    eventBatch(SENSOR, 'e1', 1, [
      ev.exec(RUNNING, '', 4242, 1, 0, BEACON, [BEACON, '--connect', '10.0.3.7:4444']),
      ev.exec(EXITED, '', 4343, 1, 10, '/usr/bin/sleep', ['sleep', '1']),
      ev.exit(EXITED, 4343, 20, 0),
    ]),
    NOW,
  );
});

afterAll(async () => {
  delete process.env.SERVICE_MAP_FILE;
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const order = { execId: RUNNING, probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'] as const, ttlSeconds: 60, reason: 'io_uring_setup first seen in this workload' };

describe('zooms.order, zooms.cancel, zooms.list', () => {
  let zoomId = '';
  let investigationId = '';

  it('a responder orders a zoom: the sensor gets it, the zoom is listed with its remaining TTL, the order is recorded and audited', async () => {
    const { zoom, investigationId: inv } = await api('responder').zooms.order({ ...order, probes: [...order.probes] });
    expect(zoom).toMatchObject({ status: 'active', sensor: SENSOR, node: NODE, target: { kind: 'exec_id', value: RUNNING }, probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], ttlSeconds: 60, trigger: 'manual', investigationId: inv });
    zoomId = zoom.id;
    investigationId = inv;
    const sent = sensor.orders.at(-1)!;
    expect(sent).toMatchObject({ target: { target: { $case: 'execId', value: RUNNING } }, ttlS: 60, maxEvents: '20000', investigationId: inv, requestedBy: 'responder@test.invalid (responder)', reason: order.reason });
    expect(sent.probes).toEqual([ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_NETWORK, ProbeSet.PROBE_SET_FILES, ProbeSet.PROBE_SET_CODE]);
    const listed = (await api('viewer').zooms.list({ investigationId: inv })).zooms;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: zoomId, status: 'active', requestedBy: 'responder@test.invalid (responder)', orderReason: order.reason });
    expect(listed[0]!.remainingTtlMs).toBeGreaterThan(55_000);
    expect(listed[0]!.remainingTtlMs).toBeLessThanOrEqual(60_000);
    const [audited] = await auditOf('zooms.order');
    expect(audited).toMatchObject({ outcome: 'success', actor: 'responder@test.invalid', target: RUNNING });
    expect(JSON.parse(audited!.detail)).toMatchObject({ trigger: 'manual', sensor: SENSOR, probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'], ttlSeconds: 60, reason: order.reason, zoomId, investigationId: inv });
    const [orderRow] = await rows<{ outcome: string; zoom_id: string; actor_name: string }>('SELECT toString(outcome) AS outcome, zoom_id, actor_name FROM zoom_orders WHERE zoom_id = {z:String}', { z: zoomId });
    expect(orderRow).toEqual({ outcome: 'accepted', zoom_id: zoomId, actor_name: 'responder@test.invalid' });
    const inv0 = await api('viewer').investigations.get({ id: inv });
    expect(inv0).toMatchObject({ trigger: 'manual', execId: RUNNING, node: NODE, title: `Zoom on uring_beacon [4242] on ${NODE}`, activeZooms: 1 });
  });

  it('only responders and admins may order or cancel', async () => {
    for (const role of ['viewer', 'analyst'] as const) {
      await expect(api(role).zooms.order({ ...order, probes: ['NETWORK'] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(api(role).zooms.cancel({ zoomId })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('refuses bad orders with a clear 4xx, and nothing becomes active', async () => {
    const before = sensor.orders.length;
    const r = api('responder');
    // The message as the API sends it (the HTTP error formatter spells validation issues out).
    const refused = async (input: unknown) => {
      try {
        await r.zooms.order(input as never);
      } catch (e) {
        const err = e as { code: string; message: string; cause?: unknown };
        const issues = err.code === 'BAD_REQUEST' ? inputIssuesOf(err.cause) : null;
        return { code: err.code, message: issues ? describeInputIssues(issues) : err.message };
      }
      throw new Error('accepted');
    };
    expect(await refused({ ...order, probes: ['SYSCALLS'] })).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/probes\.0: one of IO_URING, NETWORK, FILES, CODE, CHILDREN/) });
    expect(await refused({ ...order, ttlSeconds: 601 })).toMatchObject({ code: 'BAD_REQUEST', message: "invalid input: ttlSeconds: at most 600 (the cockpit's maximum zoom length)" });
    expect(await refused({ ...order, reason: undefined })).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/reason: required/) });
    expect(await refused({ ...order, reason: '  ' })).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/reason: required: say why/) });
    expect(await refused({ ...order, cgroup: { node: NODE, path: '/x' } })).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/exactly one target/) });
    expect(await refused({ ...order, probes: ['NETWORK', 'NETWORK'] })).toMatchObject({ code: 'BAD_REQUEST' });
    // Targets the cockpit cannot route: unknown, exited, a node no sensor watches.
    expect(await refused({ ...order, execId: `${NODE}:0a1b2c3d:9:9999:1` })).toMatchObject({ code: 'NOT_FOUND', message: `no process with exec id ${NODE}:0a1b2c3d:9:9999:1 (nothing stored for it)` });
    expect(await refused({ ...order, execId: EXITED })).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/has exited: there is nothing left to zoom on/) });
    expect(await refused({ ...order, execId: undefined, cgroup: { node: 'node-nobody', path: '/x' } })).toMatchObject({ code: 'NOT_FOUND', message: 'no sensor is known for node node-nobody' });
    expect(sensor.orders.length).toBe(before); // none of these reached the sensor
    // Refusals by the sensor: its words, the status that fits.
    refuseNext = { code: grpc.PERMISSION_DENIED, details: "probe set CHILDREN not allowed by this sensor's policy (allowed: IO_URING, NETWORK, FILES, CODE)" };
    expect(await refused({ ...order, probes: ['CHILDREN'] })).toMatchObject({ code: 'FORBIDDEN', message: `sensor ${SENSOR} refused: probe set CHILDREN not allowed by this sensor's policy (allowed: IO_URING, NETWORK, FILES, CODE)` });
    refuseNext = { code: grpc.ALREADY_EXISTS, details: `pid 4242 is already targeted by zoom ${zoomId} (cancel it or wait for it to end)` };
    expect(await refused(order)).toMatchObject({ code: 'CONFLICT' });
    refuseNext = { code: grpc.UNAVAILABLE, details: 'No connection established. Last error: Error: unable to verify the first certificate' };
    expect(await refused(order)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/cannot be reached over mutual TLS/) });
    refuseNext = null;
    // Nothing new is active; the refusals that passed validation are recorded and audited.
    expect((await activeZooms()).map((z) => z.id)).toEqual([zoomId]);
    const refusedOrders = await rows<{ error_code: string; error: string }>("SELECT toString(error_code) AS error_code, error FROM zoom_orders WHERE outcome = 'refused' ORDER BY ts");
    expect(refusedOrders.map((o) => o.error_code)).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'SERVICE_UNAVAILABLE']);
    const failures = (await auditOf('zooms.order')).filter((a) => a.outcome === 'failure');
    expect(failures).toHaveLength(6);
    expect(JSON.parse(failures[3]!.detail)).toMatchObject({ code: 'FORBIDDEN', grpc: 'PERMISSION_DENIED', probes: ['CHILDREN'] });
    // Refused orders are listed as such (with the reason), never as zooms.
    const listed = (await api('viewer').zooms.list()).zooms;
    expect(listed.filter((z) => z.status === 'refused')).toHaveLength(6);
    // Filtered by process image: only orders on it, refused or not, whatever their age.
    const ofRunning = (await api('viewer').zooms.list({ execId: RUNNING })).zooms;
    expect(ofRunning.length).toBeGreaterThan(0);
    expect(ofRunning.every((z) => z.target.kind === 'exec_id' && z.target.value === RUNNING)).toBe(true);
    expect(ofRunning.map((z) => z.id)).toContain(zoomId);
    expect(ofRunning.length).toBeLessThan(listed.length);
    expect((await api('viewer').zooms.list({ execId: `${NODE}:0a1b2c3d:1:1:1` })).zooms).toEqual([]);
  });

  it('stores the zoom’s evidence through the unit protocol, and the analyses are exact on it', async () => {
    const zoom = sensor.zooms.get(zoomId)!;
    const events = beaconZoomEvents({
      node: NODE, execId: RUNNING, pid: 4242, zoomId, investigationId, t0Ns: BigInt(zoom.orderedAtNs),
      tokenPath: TOKEN, token: 'eyJhbGciOi.not-a-real-token\n', binary: BEACON,
      destination: { address: '10.0.3.7', port: 4444 }, frames: 6, intervalMs: 1000, payload: 'exfil:t0ken-bytes',
    });
    // As the collector stores them: in a unit, mapped to the investigation by the zoom directory.
    await storeEventBatch(db, eventBatch(SENSOR, 'e1', 4, events), NOW, directory);
    const net = await api('viewer').investigations.network({ id: investigationId });
    expect(net.destinations).toHaveLength(1);
    const frameBytes = beaconFrame(0, 'exfil:t0ken-bytes').length;
    expect(net.destinations[0]).toMatchObject({
      address: '10.0.3.7', port: 4444, protocol: 'tcp', service: 'metrics-gateway.ops', contacts: 6,
      intervalMedianMs: 1000, jitter: 0, bytesOut: 6 * frameBytes, bytesIn: 0, payloadFormat: 'length_prefixed', payloadFormatLabel: 'Length-prefixed binary', viaIoUringOnly: true,
    });
    expect(net.destinations[0]!.payloadReason).toMatch(/length/i);
    expect(net.destinations[0]!.periodic.status).toBe('periodic');
    expect(net.findings.map((f) => f.kind).sort()).toEqual(['beaconing', 'network_destination', 'payload_format']);
    const files = await api('viewer').investigations.files({ id: investigationId });
    expect(files.files.map((f) => [f.path, f.class, f.op, f.viaIoUring, f.count, f.bytes])).toEqual([
      [TOKEN, 'service_account_token', 'open', true, 1, 0],
      [TOKEN, 'service_account_token', 'read', true, 1, 28],
    ]);
    const code = await api('viewer').investigations.code({ id: investigationId });
    expect(code.workload).toMatchObject({ executable: BEACON, language: 'c', languageName: 'C' });
    expect(code.modules).toEqual([expect.objectContaining({ path: BEACON, kind: 'executable', language: 'c', buildId: '3f0c1d2e4b5a69788796a5b4c3d2e1f001122334', sha256: 'a'.repeat(64), differsFromWorkload: false })]);
    const detail = await api('viewer').investigations.get({ id: investigationId });
    expect(detail.evidence).toEqual({ ioUringOps: 10, socketEvents: 8, fileAccesses: 3, codeFingerprints: 1 });
    expect(detail.zoomList[0]).toMatchObject({ id: zoomId, status: 'expired', reason: 'TTL of 60 s ran out' });
    expect(detail.window).not.toBeNull();
    expect(detail.findings.some((f) => f.kind === 'io_uring_usage' && f.severity === 'critical')).toBe(true);
  });

  it('cancels at once, audited; an unknown zoom is a 404', async () => {
    const { zoom } = await api('responder').zooms.order({ ...order, probes: ['NETWORK'], reason: 'a second look' });
    const cancelled = await api('responder').zooms.cancel({ zoomId: zoom.id, reason: 'seen enough' });
    expect(cancelled).toMatchObject({ id: zoom.id, status: 'cancelled', reason: 'cancelled by responder@test.invalid (responder): seen enough', remainingTtlMs: null });
    expect((await api('viewer').zooms.list()).zooms.find((z) => z.id === zoom.id)).toMatchObject({ status: 'cancelled' });
    const [audited] = await auditOf('zooms.cancel');
    expect(audited).toMatchObject({ outcome: 'success', actor: 'responder@test.invalid', target: zoom.id });
    expect(JSON.parse(audited!.detail)).toMatchObject({ statusBefore: 'active', statusAfter: 'cancelled', reason: 'seen enough', sensor: SENSOR });
    await expect(api('responder').zooms.cancel({ zoomId: 'z-nope-1' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no zoom z-nope-1' });
  });
});

describe('automatic zooms on indicators', () => {
  const indicator = (id: string, severity: IndicatorRecord['severity'], execId = RUNNING): IndicatorRecord => ({
    id, tsNs: NOW.toString(), lastSeenNs: NOW.toString(), count: '1', node: NODE, execId, lastExecId: execId, execIds: [execId],
    workload: 'cgroup/soc-test/app', workloadKind: 'cgroup', executable: BEACON, kind: 'syscall', value: 'io_uring_setup', severity,
    deviation: true, rules: ['io_uring-first-use'], profileVersion: 2, profileStatus: 'completed', sentence: 'First syscall io_uring_setup by uring_beacon.',
    explanation: '{}', state: 'open', updatedAtNs: NOW.toString(), rowVersion: '1',
  });

  it('a high indicator opens its investigation and zooms on its process; another of the same process joins; a medium one does not zoom', async () => {
    for (const z of await activeZooms()) await api('admin').zooms.cancel({ zoomId: z.id });
    const high = indicator('111111111111111111111111', 'high');
    const again = { ...indicator('222222222222222222222222', 'high'), kind: 'io_uring_op' as const, value: 'SEND' };
    const medium = indicator('333333333333333333333333', 'medium');
    await upsertIndicators(db, [high, again, medium]);
    const outcomes = await service.onIndicators(db, [high, again, medium]);
    const inv = investigationIdFor(high.id);
    expect(outcomes.map((o) => o.outcome)).toEqual(['ordered', 'joined', 'skipped']);
    expect(outcomes[0]).toMatchObject({ investigationId: inv, zoom: { status: 'active', trigger: 'auto', indicatorId: high.id, ttlSeconds: 300, probes: ['IO_URING', 'NETWORK', 'FILES', 'CODE'] } });
    expect(sensor.orders.at(-1)).toMatchObject({ requestedBy: `zoom policy (indicator ${high.id})`, investigationId: inv, maxEvents: '50000' });
    const detail = await api('viewer').investigations.get({ id: inv });
    expect(detail).toMatchObject({ trigger: 'auto', createdBy: 'zoom policy', execId: RUNNING, workload: 'cgroup/soc-test/app', indicatorIds: [high.id, again.id], activeZooms: 1 });
    expect(detail.indicators.map((i) => i.id)).toEqual([high.id, again.id]);
    expect((await api('viewer').investigations.list({ indicatorId: again.id })).investigations.map((i) => i.id)).toEqual([inv]);
    const [audited] = (await auditOf('zooms.order')).filter((a) => a.actor === 'zoom policy');
    expect(JSON.parse(audited!.detail)).toMatchObject({ trigger: 'auto', indicatorId: high.id, ttlSeconds: 300 });
    // The same indicator again (a restarted cockpit): the same investigation, reused.
    const otherService = new ZoomService({ controls: { forSensor: () => sensor.control, sensorOfNode: () => SENSOR }, policy: () => DEFAULT_ZOOM_POLICY, directory, now: () => BigInt(Date.now()) * 1_000_000n, log: silentLogger });
    refuseNext = { code: grpc.ALREADY_EXISTS, details: 'pid 4242 is already targeted' };
    const [reused] = await otherService.onIndicators(db, [high]);
    refuseNext = null;
    expect(reused).toMatchObject({ outcome: 'refused', investigationId: inv });
    expect((await api('viewer').investigations.list()).investigations.filter((i) => i.id === inv)).toHaveLength(1);
  });

  it('an indicator of a process that is gone is recorded as a refused order in its investigation', async () => {
    refuseNext = { code: grpc.NOT_FOUND, details: `no running process has image ${EXITED} (it ended, or this sensor never saw it)` };
    const [out] = await service.onIndicators(db, [indicator('444444444444444444444444', 'high', EXITED)]);
    refuseNext = null;
    expect(out).toMatchObject({ outcome: 'refused' });
    const zooms = (await api('viewer').zooms.list({ investigationId: investigationIdFor('444444444444444444444444') })).zooms;
    expect(zooms).toEqual([expect.objectContaining({ status: 'refused', trigger: 'auto', error: 'NOT_FOUND', reason: expect.stringContaining('no running process has image') })]);
  });
});

describe('the service map', () => {
  it('is visible to viewers and reloaded by admins (audited); a broken file keeps the previous entries and says why', async () => {
    const state = await api('viewer').serviceMap.get();
    expect(state.sources).toEqual([expect.objectContaining({ format: 'config', entries: 1, error: null })]);
    expect(state.entries[0]).toMatchObject({ name: 'metrics-gateway.ops', address: '10.0.3.7', port: 4444 });
    await expect(api('analyst').serviceMap.reload()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await api('admin').serviceMap.reload()).entries).toHaveLength(1);
    fs.writeFileSync(process.env.SERVICE_MAP_FILE!, 'services:\n  - name: broken\n    cidr: 10.0.0.0/33\n');
    await expect(api('admin').serviceMap.reload()).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/services\[0\]: .*previous entries kept|previous entries kept.*services\[0\]/) });
    expect((await api('viewer').serviceMap.get()).entries.map((e) => e.name)).toEqual(['metrics-gateway.ops']);
    // Kubernetes' own listing works as a source too.
    fs.writeFileSync(
      process.env.SERVICE_MAP_FILE!,
      JSON.stringify({ kind: 'List', items: [{ kind: 'Service', metadata: { name: 'redis', namespace: 'cache' }, spec: { clusterIP: '10.96.0.12', ports: [{ port: 6379, protocol: 'TCP' }] } }] }),
    );
    const k8s = await api('admin').serviceMap.reload();
    expect(k8s.sources[0]).toMatchObject({ format: 'kubernetes', entries: 1 });
    expect(k8s.entries[0]).toMatchObject({ name: 'redis.cache', address: '10.96.0.12', port: 6379 });
    expect((await auditOf('servicemap.reload')).map((a) => a.outcome)).toEqual(['success', 'failure', 'success']);
  });
});
