/**
 * Adaptive zoom-in against the real kernel: the sensor CLI as a child process (live eBPF),
 * ordered over gRPC with mutual TLS, workloads from sensor/build/uring_beacon (io_uring only:
 * open + read a file, connect, a length-prefixed binary frame every interval, a native module
 * dlopen'ed late) started through a Launcher (not the sensor's descendants).
 */
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CodeKind,
  EvidenceVia,
  FileOp,
  ListZoomsRequest,
  ProbeSet,
  SocketOp,
  StatusRequest,
  WatchRequest,
  ZoomStatus,
  type Event,
  type EventBatch,
  type SensorClient,
  type SensorStatus,
  type Zoom,
  type ZoomRequest,
} from '../../gen/soc/sensor/v1/sensor';
import { checkBatch } from '../../../server/collector/validate';
import { createSensorClient } from '../grpc/client';
import { findCgroup2Mount } from '../identity/cgroup';
import { probeKernel } from '../kernel/source';
import { Launcher } from '../testing/launcher';
import { freePort, REPO_ROOT, startSensorProcess, waitFor, type SensorProcess } from '../testing/process';
import { ensureCerts, type CertResult } from '../tls/certs';
import { readTlsMaterial } from '../tls/material';

const probe = probeKernel();
const BUILD = path.resolve(import.meta.dirname, '../../build');
const BEACON = path.join(BUILD, 'uring_beacon');
const gcc = ['/usr/bin/gcc', '/usr/bin/cc'].find((p) => existsSync(p));
const skipReason = !probe.ok
  ? probe.reason
  : !existsSync(BEACON)
    ? `test program missing: ${BEACON} (run make -C sensor test-programs)`
    : !gcc
      ? 'gcc missing (the native module is built in the test)'
      : '';
if (skipReason) console.warn(`zoom live tests skipped: ${skipReason}`);

type Call<Req, Res> = (req: Req, cb: (err: ServiceError | null, res: Res) => void) => unknown;
function unary<Req, Res>(client: SensorClient, method: keyof SensorClient, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client[method] as unknown as Call<Req, Res>).call(client, req, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Frame i of uring_beacon: BE32 length of the rest, "BCN1", BE32 i, text. */
function frame(i: number, text: string): Buffer {
  const body = Buffer.concat([Buffer.from('BCN1'), Buffer.alloc(4), Buffer.from(text)]);
  body.writeUInt32BE(i, 4);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe.skipIf(skipReason !== '')(`zoom-in (${skipReason || 'live'})`, () => {
  let dir: string;
  let certs: CertResult;
  let rogue: CertResult;
  let sensor: SensorProcess;
  let client: SensorClient;
  let launcher: Launcher;
  let listener: net.Server;
  let listenPort: number;
  let tokenPath: string;
  let modulePath: string;
  const received: Array<{ at: number; data: Buffer }> = [];
  const events: Event[] = [];
  /** what the cockpit's collector would refuse of these streams (nothing, or the test fails) */
  const rejected: string[] = [];
  const TOKEN = 'eyJhbGciOi.not-a-real-token\n';
  const PAYLOAD = 'exfil:t0ken-bytes';

  const order = (req: Partial<ZoomRequest>) =>
    unary<ZoomRequest, Zoom>(client, 'zoomIn', {
      target: undefined,
      probes: [],
      ttlS: 0,
      maxEvents: '0',
      payloadPrefixBytes: 0,
      maxEventsPerS: 0,
      investigationId: 'inv-test',
      requestedBy: 'zoom.livetest',
      reason: 'test',
      ...req,
    });
  const cancel = (zoomId: string) => unary<object, Zoom>(client, 'cancelZoom', { zoomId, requestedBy: 'zoom.livetest', reason: 'done' });
  const status = () => unary<StatusRequest, SensorStatus>(client, 'status', {});
  const list = () => unary<ListZoomsRequest, { zooms: Zoom[] }>(client, 'listZooms', { activeOnly: false });
  const evidence = (zoomId: string) => events.filter((e) => e.zoomId === zoomId && e.body?.$case !== 'zoomState');
  const states = (zoomId: string) => events.filter((e) => e.zoomId === zoomId && e.body?.$case === 'zoomState');
  const refused = async (p: Promise<unknown>): Promise<ServiceError> => {
    try {
      await p;
    } catch (e) {
      return e as ServiceError;
    }
    throw new Error('the order was accepted');
  };
  const zoomPrograms = (st: SensorStatus) => st.programs.filter((p) => p.name.startsWith('zoom_'));

  /** The first sensor does not allow CHILDREN (to test the refusal); the restarted one does. */
  async function startSensor(probes = 'IO_URING,NETWORK,FILES,CODE'): Promise<SensorProcess> {
    const port = await freePort();
    return startSensorProcess({
      kind: 'cli',
      runner: 'node', // signals (SIGKILL) reach the sensor itself
      args: ['--listen', `localhost:${port}`, '--name', 'zoom-test', '--zoom-max-concurrent', '3', '--zoom-probes', probes],
      env: certs.sensorEnv,
      echo: !!process.env.TEST_VERBOSE,
    }).then((s) => ({ ...s, port }));
  }

  function connect(port: number, files = certs.files): SensorClient {
    return createSensorClient(`localhost:${port}`, readTlsMaterial({ ca: files.ca, cert: files.cockpitCert, key: files.cockpitKey }));
  }

  function watch(c: SensorClient): void {
    const call = c.watch(WatchRequest.fromPartial({}));
    call.on('data', (batch: EventBatch) => {
      events.push(...batch.events);
      const verdict = checkBatch(batch, 'zoom-test');
      if (!verdict.ok) rejected.push(verdict.reason);
    });
    call.on('error', () => undefined);
  }

  beforeAll(async () => {
    // Orphaned: this test process is the sensor's gRPC client (the "cockpit"), which the sensor marks
    // own with its descendants; zoom targets must not be among them.
    launcher = new Launcher({ orphan: true });
    dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'soc-zoom-')));
    certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
    rogue = await ensureCerts({ outDir: path.join(dir, 'rogue-pki') }); // another CA: untrusted
    tokenPath = path.join(dir, 'serviceaccount', 'token');
    execFileSync('mkdir', ['-p', path.dirname(tokenPath)]);
    writeFileSync(tokenPath, TOKEN);
    // A native module as node-gyp makes them: a shared object importing Node-API.
    writeFileSync(
      path.join(dir, 'addon.c'),
      'typedef void *napi_env, *napi_value;\nextern int napi_create_uint32(napi_env, unsigned, napi_value *);\n' +
        'int addon_marker = 7;\nnapi_value addon_init(napi_env env, napi_value e) { napi_value v; napi_create_uint32(env, 42, &v); return v; }\n',
    );
    modulePath = path.join(dir, 'implant.node');
    // Undefined napi_* symbols are fine for dlopen(RTLD_NOW) only if resolvable: allow them lazily.
    execFileSync(gcc!, ['-shared', '-fPIC', '-O2', '-Wl,--unresolved-symbols=ignore-all', '-Wl,-z,lazy', '-o', modulePath, path.join(dir, 'addon.c')]);
    listener = net.createServer((c) => c.on('data', (d) => received.push({ at: Date.now(), data: d })).on('error', () => undefined));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    listenPort = (listener.address() as net.AddressInfo).port;
    sensor = await startSensor();
    client = connect(sensor.port);
    watch(client);
    await waitFor('seeded processes in the stream', () => events.some((e) => e.body?.$case === 'exec'));
  }, 120_000);

  afterAll(async () => {
    client?.close();
    if (sensor && sensor.child.exitCode === null) {
      sensor.child.kill('SIGTERM');
      await sensor.exited;
    }
    launcher?.close();
    listener?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // A failed test must not leave its zoom running into the next one.
  afterEach(async () => {
    for (const z of (await list()).zooms) if (z.status === ZoomStatus.ZOOM_STATUS_ACTIVE) await cancel(z.id);
    expect(rejected, 'batches the collector would refuse').toEqual([]);
  });

  it('starts with every zoom program loaded and none attached', async () => {
    const st = await status();
    expect(zoomPrograms(st).length).toBeGreaterThan(10);
    expect(zoomPrograms(st).filter((p) => p.attached)).toEqual([]);
    expect(st.zoomProgramsAttached).toBe(0);
    expect(st.zooms).toEqual([]);
    expect(st.zoomNote).toMatch(/zooms live in this sensor process/);
  });

  it('refuses bad orders with the right codes and clear messages', async () => {
    const sleeper = launcher.run(['sleep', '30']);
    const pid = await sleeper.pid;
    await waitFor('the sleeper exec', () => events.some((e) => e.pid === pid && e.body?.$case === 'exec' && e.body.value.binary.endsWith('/sleep')));
    const tgid = (p: number) => ({ $case: 'tgid' as const, value: { pid: p, followChildren: false } });
    const probes = [ProbeSet.PROBE_SET_NETWORK];

    let e = await refused(order({ target: { target: tgid(4_000_000) }, probes }));
    expect([e.code, e.details]).toEqual([GrpcStatus.NOT_FOUND, 'no process with pid 4000000 on this node']);
    e = await refused(order({ target: { target: { $case: 'execId', value: `${os.hostname()}:00000000:1:4000000:1` } }, probes }));
    expect(e.code).toBe(GrpcStatus.NOT_FOUND);
    expect(e.details).toMatch(/^no running process has image /);
    e = await refused(order({ target: { target: tgid(pid) }, probes: [ProbeSet.PROBE_SET_CHILDREN] }));
    expect([e.code, e.details]).toEqual([
      GrpcStatus.PERMISSION_DENIED,
      "probe set CHILDREN not allowed by this sensor's policy (allowed: IO_URING, NETWORK, FILES, CODE)",
    ]);
    e = await refused(order({ target: { target: tgid(pid) }, probes, ttlS: 601 }));
    expect([e.code, e.details]).toEqual([GrpcStatus.INVALID_ARGUMENT, "ttl_s 601 s exceeds this sensor's maximum of 600 s"]);
    e = await refused(order({ target: { target: tgid(pid) }, probes, maxEvents: '1000001' }));
    expect([e.code, e.details]).toEqual([GrpcStatus.INVALID_ARGUMENT, "max_events 1000001 exceeds this sensor's maximum of 1000000"]);
    e = await refused(order({ target: { target: tgid(pid) }, probes, payloadPrefixBytes: 300 }));
    expect([e.code, e.details]).toEqual([GrpcStatus.INVALID_ARGUMENT, "payload_prefix_bytes 300 exceeds this sensor's maximum of 256"]);
    e = await refused(order({ probes }));
    expect(e.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    e = await refused(order({ target: { target: tgid(sensor.child.pid!) }, probes }));
    expect(e.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(e.details).toMatch(/sensor's own process/);

    // An order from a certificate another CA signed never reaches the service: TLS refuses it.
    const rogueClient = connect(sensor.port, rogue.files);
    try {
      const r = await refused(unary<ZoomRequest, Zoom>(rogueClient, 'zoomIn', { target: { target: tgid(pid) }, probes, ttlS: 0, maxEvents: '0', payloadPrefixBytes: 0, maxEventsPerS: 0, investigationId: '', requestedBy: 'rogue', reason: '' }));
      expect(r.code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      rogueClient.close();
    }

    // An exec-id target, then more zooms than the sensor runs at once (3), then cancels.
    const execId = events.findLast((x) => x.pid === pid && x.body?.$case === 'exec')!.execId;
    const byExec = await order({ target: { target: { $case: 'execId', value: execId } }, probes, ttlS: 60 });
    expect(byExec).toMatchObject({ status: ZoomStatus.ZOOM_STATUS_ACTIVE, targetTgids: [pid], requestedBy: 'zoom.livetest', investigationId: 'inv-test' });
    expect(byExec.clientSubject).toMatch(/CN=/);
    e = await refused(order({ target: { target: tgid(pid) }, probes }));
    expect(e.code).toBe(GrpcStatus.ALREADY_EXISTS);
    const others = [launcher.run(['sleep', '30']), launcher.run(['sleep', '30'])];
    const otherPids = await Promise.all(others.map((o) => o.pid));
    const more = await Promise.all(otherPids.map((p) => order({ target: { target: tgid(p) }, probes, ttlS: 60 })));
    const third = launcher.run(['sleep', '30']);
    e = await refused(order({ target: { target: tgid(await third.pid) }, probes }));
    expect([e.code, e.details]).toEqual([GrpcStatus.RESOURCE_EXHAUSTED, '3 zooms active: this sensor runs at most 3 at a time']);
    for (const z of [byExec, ...more]) expect((await cancel(z.id)).status).toBe(ZoomStatus.ZOOM_STATUS_CANCELLED);
    expect((await status()).zoomProgramsAttached).toBe(0);
    const zooms = (await list()).zooms;
    expect(zooms.filter((z) => z.status === ZoomStatus.ZOOM_STATUS_CANCELLED)).toHaveLength(3);
    e = await refused(cancel('z-nope-1'));
    expect(e.code).toBe(GrpcStatus.NOT_FOUND);
    for (const p of [pid, ...otherPids, await third.pid]) process.kill(p, 'SIGTERM');
  });

  it('zooming on the beacon: file path and bytes read via io_uring, destination, period, payload prefixes, language C; a late native module; the untargeted twin yields nothing', async () => {
    const argv = [BEACON, '--wait', '--open', tokenPath, '--connect', `127.0.0.1:${listenPort}`, '--frames', '6', '--interval-ms', '1000', '--payload', PAYLOAD, '--dlopen', modulePath, '--dlopen-after', '2'];
    const target = launcher.run(argv, { hold: true });
    const twin = launcher.run(argv, { hold: true });
    const [pid, twinPid] = await Promise.all([target.pid, twin.pid]);
    await waitFor('both beacons exec', () => [pid, twinPid].every((p) => events.some((e) => e.pid === p && e.body?.$case === 'exec' && e.body.value.binary === BEACON)));

    const zoom = await order({
      target: { target: { $case: 'tgid', value: { pid, followChildren: false } } },
      probes: [ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_NETWORK, ProbeSet.PROBE_SET_FILES, ProbeSet.PROBE_SET_CODE],
      ttlS: 60,
      maxEvents: '5000',
      payloadPrefixBytes: 64,
      reason: 'io_uring_setup first seen in a web app',
    });
    expect(zoom.status).toBe(ZoomStatus.ZOOM_STATUS_ACTIVE);
    expect(Number(zoom.attachNs)).toBeGreaterThan(0);
    expect((await status()).zoomProgramsAttached).toBeGreaterThan(10);

    await Promise.all([target.release(), twin.release()]);
    const [done, twinDone] = await Promise.all([target.done, twin.done]);
    expect(JSON.parse(done.stdout)).toMatchObject({ pid, read_bytes: TOKEN.length, frames: 6, dlopen: 1, errors: [] });
    expect(JSON.parse(twinDone.stdout)).toMatchObject({ frames: 6, errors: [] });
    const ev = () => evidence(zoom.id);
    const code = () => ev().flatMap((e) => (e.body?.$case === 'code' ? [e.body.value] : []));
    await waitFor('the native module fingerprint', () => code().some((c) => c.path === modulePath), { timeoutMs: 15_000, context: () => JSON.stringify(code().map((c) => c.path)) });
    const sends = (kind: 'ioUringOp' | 'socket') => ev().filter((e) => (kind === 'socket' ? e.body?.$case === 'socket' && e.body.value.op === SocketOp.SOCKET_OP_SEND : e.body?.$case === 'ioUringOp' && e.body.value.opcode === 'SEND'));
    await waitFor('the last frame in the evidence', () => sends('ioUringOp').length === 6 && sends('socket').length === 6);
    const all = ev();
    // Every evidence event names the zoom and the target; the twin is nowhere.
    expect(all.length).toBeGreaterThan(20);
    for (const e of all) expect(e.pid).toBe(pid);
    expect(events.filter((e) => e.pid === twinPid && e.zoomId)).toEqual([]);

    // Files through io_uring: the path, and the bytes read.
    const files = all.flatMap((e) => (e.body?.$case === 'fileAccess' ? [e.body.value] : []));
    const viaRing = files.filter((f) => f.via === EvidenceVia.EVIDENCE_VIA_IO_URING && f.path === tokenPath);
    expect(viaRing.map((f) => [f.op, f.bytes])).toEqual([
      [FileOp.FILE_OP_OPEN, '0'],
      [FileOp.FILE_OP_READ, String(TOKEN.length)],
      [FileOp.FILE_OP_CLOSE, '0'],
    ]);
    // ... and through syscalls (the dlopen of the module).
    expect(files.some((f) => f.via === EvidenceVia.EVIDENCE_VIA_SYSCALL && f.op === FileOp.FILE_OP_OPEN && f.path === modulePath)).toBe(true);

    // io_uring requests, submission joined with completion.
    const ops = all.flatMap((e) => (e.body?.$case === 'ioUringOp' ? [e.body.value] : []));
    expect(ops.map((o) => o.opcode)).toEqual(['OPENAT', 'READ', 'CLOSE', 'CONNECT', 'SEND', 'SEND', 'SEND', 'SEND', 'SEND', 'SEND']);
    const [openat, read, , conn] = ops;
    expect(openat).toMatchObject({ path: tokenPath, completed: true, userData: '1' });
    expect(read).toMatchObject({ path: tokenPath, bytes: String(TOKEN.length), result: String(TOKEN.length) });
    expect(read!.payloadPrefix.toString()).toBe(TOKEN); // what was read, at completion
    expect(conn).toMatchObject({ address: '127.0.0.1', port: listenPort, result: '0' });
    for (const o of ops) expect(BigInt(o.completeNs)).toBeGreaterThanOrEqual(BigInt(o.submitNs));
    ops.filter((o) => o.opcode === 'SEND').forEach((o, i) => {
      expect(o.payloadPrefix).toEqual(frame(i, PAYLOAD).subarray(0, 64));
      expect(o.bytes).toBe(String(frame(i, PAYLOAD).length));
      expect([o.address, o.port]).toEqual(['127.0.0.1', listenPort]);
    });

    // Sockets: the destination, sends with byte counts and payload prefixes, one cookie.
    const sock = all.flatMap((e) => (e.body?.$case === 'socket' ? [{ ...e.body.value, ts: BigInt(e.tsNs) }] : []));
    const connect = sock.find((s) => s.op === SocketOp.SOCKET_OP_CONNECT)!;
    expect(connect).toMatchObject({ address: '127.0.0.1', port: listenPort, protocol: 'tcp', via: EvidenceVia.EVIDENCE_VIA_IO_URING });
    const sent = sock.filter((s) => s.op === SocketOp.SOCKET_OP_SEND);
    expect(sent).toHaveLength(6);
    sent.forEach((s, i) => {
      expect(s.payloadPrefix).toEqual(frame(i, PAYLOAD).subarray(0, 64));
      expect(s).toMatchObject({ bytes: String(frame(i, PAYLOAD).length), address: '127.0.0.1', port: listenPort, socketCookie: connect.socketCookie, via: EvidenceVia.EVIDENCE_VIA_IO_URING });
    });
    expect(sock.filter((s) => s.op === SocketOp.SOCKET_OP_STATE && s.socketCookie === connect.socketCookie).map((s) => s.newState)).toContain('ESTABLISHED');
    // What the listener got is what the evidence says was sent.
    await waitFor('all frames at the listener', () => Buffer.concat(received.map((r) => r.data)).length >= 2 * sent.reduce((n, s) => n + Number(s.bytes), 0));

    // The contact period: the median interval between sends is within 10 % of 1 s.
    const intervals = sent.slice(1).map((s, i) => Number(s.ts - sent[i]!.ts) / 1e6);
    expect(Math.abs(median(intervals) - 1000)).toBeLessThan(100);

    // Code: the program is C (build id, sha256 of the binary); the module dlopen'ed after the
    // zoom started is fingerprinted as a native module for node.
    const exe = code().find((c) => c.kind === CodeKind.CODE_KIND_EXECUTABLE)!;
    expect(exe).toMatchObject({ path: BEACON, language: 'C', sha256: createHash('sha256').update(readFileSync(BEACON)).digest('hex') });
    expect(exe.buildId).toBe(/Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', BEACON], { encoding: 'utf8' }))![1]);
    expect(code().some((c) => c.kind === CodeKind.CODE_KIND_SHARED_OBJECT && /liburing/.test(c.path))).toBe(true);
    const mod = code().find((c) => c.path === modulePath)!;
    expect(mod).toMatchObject({ kind: CodeKind.CODE_KIND_NATIVE_MODULE, language: 'C', runtime: 'node' });
    expect(BigInt(mod.mappedAtNs)).toBeGreaterThan(BigInt(zoom.startedAtNs));

    const ended = await cancel(zoom.id);
    expect(ended.status).toBe(ZoomStatus.ZOOM_STATUS_CANCELLED);
    expect(Number(ended.eventsEmitted)).toBeGreaterThanOrEqual(all.length - files.filter((f) => f.via === EvidenceVia.EVIDENCE_VIA_IO_URING).length);
    await waitFor('the end state in the stream', () => states(zoom.id).length === 3);
    expect(states(zoom.id).map((s) => (s.body as { value: { zoom: Zoom } }).value.zoom.status)).toEqual([
      ZoomStatus.ZOOM_STATUS_ORDERED,
      ZoomStatus.ZOOM_STATUS_ACTIVE,
      ZoomStatus.ZOOM_STATUS_CANCELLED,
    ]);
  }, 60_000);

  it('a cancel takes effect at once: nothing after it, its state after the last evidence', async () => {
    const b = launcher.run([BEACON, '--wait', '--connect', `127.0.0.1:${listenPort}`, '--frames', '200', '--interval-ms', '20'], { hold: true });
    const pid = await b.pid;
    const zoom = await order({ target: { target: { $case: 'tgid', value: { pid, followChildren: false } } }, probes: [ProbeSet.PROBE_SET_NETWORK], ttlS: 60 });
    await b.release();
    await waitFor('some sends', () => evidence(zoom.id).length >= 10);
    const ended = await cancel(zoom.id);
    expect(ended.status).toBe(ZoomStatus.ZOOM_STATUS_CANCELLED);
    expect((await status()).zoomProgramsAttached).toBe(0);
    await new Promise((r) => setTimeout(r, 500)); // the beacon keeps sending
    await waitFor('the end state in the stream', () => states(zoom.id).length === 3);
    // Nothing happened after the cancel: every event of the zoom precedes its end, in time and
    // in the stream (the sensor delivers what the kernel wrote before it reports the end).
    const ev = evidence(zoom.id);
    for (const e of ev) expect(BigInt(e.tsNs)).toBeLessThan(BigInt(ended.endedAtNs));
    const endState = states(zoom.id).at(-1)!;
    expect((endState.body as { value: { zoom: Zoom } }).value.zoom.status).toBe(ZoomStatus.ZOOM_STATUS_CANCELLED);
    expect(Number(endState.seq)).toBeGreaterThan(Math.max(...ev.map((e) => Number(e.seq))));
    process.kill(pid, 'SIGTERM');
  });

  it('an exhausted budget stops the zoom (EXHAUSTED) and no more events come', async () => {
    const b = launcher.run([BEACON, '--wait', '--connect', `127.0.0.1:${listenPort}`, '--frames', '300', '--interval-ms', '10'], { hold: true });
    const pid = await b.pid;
    const zoom = await order({ target: { target: { $case: 'tgid', value: { pid, followChildren: false } } }, probes: [ProbeSet.PROBE_SET_NETWORK], ttlS: 60, maxEvents: '25' });
    await b.release();
    await waitFor('EXHAUSTED', () => states(zoom.id).some((s) => (s.body as { value: { zoom: Zoom } }).value.zoom.status === ZoomStatus.ZOOM_STATUS_EXHAUSTED), { timeoutMs: 10_000 });
    const count = evidence(zoom.id).length;
    expect(count).toBeLessThanOrEqual(25);
    expect(count).toBeGreaterThan(15);
    await new Promise((r) => setTimeout(r, 400));
    expect(evidence(zoom.id).length).toBe(count);
    const z = (await list()).zooms.find((x) => x.id === zoom.id)!;
    expect(z).toMatchObject({ status: ZoomStatus.ZOOM_STATUS_EXHAUSTED, reason: 'event budget of 25 used up' });
    // The budget was reached: events emitted up to it, the rest (if any arrived before the poll
    // ended the zoom) counted as dropped. Whether any were dropped depends on timing.
    expect(Number(z.eventsEmitted)).toBeLessThanOrEqual(25);
    expect(Number(z.eventsEmitted) + Number(z.eventsDropped)).toBeGreaterThanOrEqual(25);
    expect((await status()).zoomProgramsAttached).toBe(0);
    process.kill(pid, 'SIGTERM');
  });

  it('TTL expiry ends the zoom by itself and detaches (visible in Status)', async () => {
    const sleeper = launcher.run(['sleep', '30']);
    const pid = await sleeper.pid;
    const zoom = await order({ target: { target: { $case: 'tgid', value: { pid, followChildren: false } } }, probes: [ProbeSet.PROBE_SET_FILES], ttlS: 1 });
    expect(zoomPrograms(await status()).filter((p) => p.attached).length).toBeGreaterThan(5);
    await waitFor('EXPIRED in Status', async () => (await status()).zooms.some((z) => z.id === zoom.id && z.status === ZoomStatus.ZOOM_STATUS_EXPIRED), { timeoutMs: 5_000 });
    const st = await status();
    expect(st.zooms.find((z) => z.id === zoom.id)!.reason).toBe('TTL of 1 s ran out');
    expect(zoomPrograms(st).filter((p) => p.attached)).toEqual([]);
    expect(st.zoomProgramsAttached).toBe(0);
    process.kill(pid, 'SIGTERM');
  });

  it('a killed cockpit changes nothing: the zoom it ordered ends at its TTL and detaches', async () => {
    const sleeper = launcher.run(['sleep', '30']);
    const pid = await sleeper.pid;
    const cockpit = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'sensor/src/testing/zoom-order.ts'), '--address', `localhost:${sensor.port}`, '--pid', String(pid), '--probes', 'NETWORK,FILES', '--ttl-s', '2'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...certs.cockpitEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) => createInterface({ input: cockpit.stdout! }).once('line', resolve));
    const { id } = JSON.parse(line) as { id: string };
    expect(id).toMatch(/^z-/);
    cockpit.kill('SIGKILL');
    await new Promise((r) => cockpit.once('exit', r));
    expect((await list()).zooms.find((z) => z.id === id)!.status).toBe(ZoomStatus.ZOOM_STATUS_ACTIVE);
    await waitFor('EXPIRED without the cockpit', async () => (await list()).zooms.find((z) => z.id === id)!.status === ZoomStatus.ZOOM_STATUS_EXPIRED, { timeoutMs: 5_000 });
    expect((await status()).zoomProgramsAttached).toBe(0);
    process.kill(pid, 'SIGTERM');
  });

  it('a killed sensor leaves no zoom program attached; a new one starts with none', async () => {
    const sleeper = launcher.run(['sleep', '30']);
    const pid = await sleeper.pid;
    // Links of zoom programs on the host (other live test files' sensors may zoom at the same
    // time: this sensor's are the links its order created).
    const zoomLinks = () => {
      const names = new Map<number, string>();
      for (const p of JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Array<{ id: number; name?: string }>) {
        names.set(p.id, p.name ?? '');
      }
      const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Array<{ id: number; prog_id: number }>;
      return new Set(links.filter((l) => names.get(l.prog_id)?.startsWith('zoom_')).map((l) => l.id));
    };
    const before = zoomLinks();
    await order({
      target: { target: { $case: 'tgid', value: { pid, followChildren: false } } },
      probes: [ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_NETWORK, ProbeSet.PROBE_SET_FILES, ProbeSet.PROBE_SET_CODE],
      ttlS: 600,
    });
    const ours = [...zoomLinks()].filter((id) => !before.has(id));
    expect(ours.length).toBeGreaterThan(10);
    client.close();
    sensor.child.kill('SIGKILL');
    await sensor.exited;
    await waitFor('the kernel released the links', () => {
      const now = zoomLinks();
      return ours.every((id) => !now.has(id));
    }, { timeoutMs: 5_000 });

    sensor = await startSensor('IO_URING,NETWORK,FILES,CODE,CHILDREN');
    client = connect(sensor.port);
    watch(client);
    const st = await status();
    expect(st.zooms).toEqual([]);
    expect(st.zoomProgramsAttached).toBe(0);
    expect(zoomPrograms(st).filter((p) => p.attached)).toEqual([]);
    process.kill(pid, 'SIGTERM');
  }, 120_000);

  const sendsOf = (zoomId: string) => evidence(zoomId).filter((e) => e.body?.$case === 'socket' && e.body.value.op === SocketOp.SOCKET_OP_SEND);
  const execOf = (pid: number) => events.findLast((e) => e.pid === pid && e.body?.$case === 'exec');

  it('follows children (forked) and keeps the target across exec (same tgid, new image)', async () => {
    const dest = `127.0.0.1:${listenPort}`;
    const sh = launcher.run(['sh', '-c', `read x; ${BEACON} --connect ${dest} --frames 2 --interval-ms 50; exec ${BEACON} --connect ${dest} --frames 1`], { hold: true });
    const pid = await sh.pid;
    await waitFor('the shell exec', () => execOf(pid)?.body?.$case === 'exec' && (execOf(pid)!.body as { value: { binary: string } }).value.binary.endsWith('sh'));
    const shImage = execOf(pid)!.execId;
    const zoom = await order({ target: { target: { $case: 'tgid', value: { pid, followChildren: true } } }, probes: [ProbeSet.PROBE_SET_NETWORK], ttlS: 60 });
    expect(zoom.probes).toEqual([ProbeSet.PROBE_SET_NETWORK, ProbeSet.PROBE_SET_CHILDREN]);
    await sh.release();
    expect((await sh.done).code).toBe(0);
    await waitFor('three sends', () => sendsOf(zoom.id).length === 3);
    const child = events.find((e) => e.pid === pid && e.body?.$case === 'fork')!;
    const childPid = (child.body as { value: { childPid: number } }).value.childPid;
    const sends = sendsOf(zoom.id);
    expect(sends.map((e) => e.pid)).toEqual([childPid, childPid, pid]);
    // The child ran the beacon image it exec'd; the shell became a beacon itself (new exec id).
    expect(sends[0]!.execId).toBe(execOf(childPid)!.execId);
    expect(sends[2]!.execId).not.toBe(shImage);
    expect((execOf(pid)!.body as { value: { parentExecId: string } }).value.parentExecId).toBe(shImage);
    expect((await list()).zooms.find((z) => z.id === zoom.id)!.targetTgids).toEqual(expect.arrayContaining([pid, childPid]));
  });

  it('SQPOLL: requests submitted by the kernel thread are the target\'s', async () => {
    const b = launcher.run([BEACON, '--wait', '--sqpoll', '--open', tokenPath, '--frames', '0'], { hold: true });
    const pid = await b.pid;
    const zoom = await order({ target: { target: { $case: 'tgid', value: { pid, followChildren: false } } }, probes: [ProbeSet.PROBE_SET_IO_URING, ProbeSet.PROBE_SET_FILES], ttlS: 60 });
    await b.release();
    expect(JSON.parse((await b.done).stdout)).toMatchObject({ read_bytes: TOKEN.length, errors: [] });
    const ops = () => evidence(zoom.id).flatMap((e) => (e.body?.$case === 'ioUringOp' ? [e.body.value] : []));
    await waitFor('OPENAT, READ, CLOSE', () => ops().length >= 3);
    expect(ops().map((o) => [o.opcode, o.path, o.sqpoll])).toEqual([
      ['OPENAT', tokenPath, true],
      ['READ', tokenPath, true],
      ['CLOSE', tokenPath, true],
    ]);
    expect(ops().every((o) => o.submitTid !== pid)).toBe(true); // iou-sqp-PID submitted them
  });

  it('a cgroup target: processes in it (and only they) are zoomed', async () => {
    const root = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
    if (!root) return;
    const name = `soc-zoom-test-${process.pid}`;
    const cg = path.join(root, name);
    mkdirSync(cg);
    try {
      const argv = [BEACON, '--wait', '--connect', `127.0.0.1:${listenPort}`, '--frames', '2', '--interval-ms', '50'];
      const inside = launcher.run(argv, { hold: true });
      const outside = launcher.run(argv, { hold: true });
      const [inPid, outPid] = await Promise.all([inside.pid, outside.pid]);
      writeFileSync(path.join(cg, 'cgroup.procs'), String(inPid));
      const zoom = await order({ target: { target: { $case: 'cgroup', value: { path: `/${name}`, id: '0' } } }, probes: [ProbeSet.PROBE_SET_NETWORK], ttlS: 60 });
      expect(zoom.targetTgids).toEqual([inPid]);
      await Promise.all([inside.release(), outside.release()]);
      await Promise.all([inside.done, outside.done]);
      await waitFor('two sends', () => sendsOf(zoom.id).length === 2);
      expect(evidence(zoom.id).every((e) => e.pid === inPid)).toBe(true);
      expect(events.some((e) => e.pid === outPid && e.zoomId)).toBe(false);
      await cancel(zoom.id);
    } finally {
      await waitFor('the cgroup empty', () => readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').trim() === '');
      rmdirSync(cg);
    }
  });
});
