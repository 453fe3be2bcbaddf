import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatchRequest, type Event, type EventBatch, type SensorClient, type SensorStatus } from '../gen/soc/sensor/v1/sensor';
import { createSensorClient } from './grpc/client';
import { probeKernel } from './kernel/source';
import { readRecording } from './recording';
import { freePort, startSensorProcess, waitFor } from './testing/process';
import { ensureCerts, type CertResult } from './tls/certs';
import { readTlsMaterial } from './tls/material';

// The real sensor (`tsx sensor/src/main.ts`, live eBPF) as a child process, watched over mTLS.
const probe = probeKernel();
if (!probe.ok) console.warn(`sensor.livetest skipped: ${probe.reason}`);


describe.skipIf(!probe.ok)('live sensor over mTLS', () => {
  let dir: string;
  let certs: CertResult;
  let sensor: ChildProcess;
  let sensorExit: Promise<number | null>;
  let epoch: string;
  let port: number;
  let client: SensorClient;
  const events: Event[] = [];
  const batches: EventBatch[] = [];
  const recording = () => path.join(dir, 'live.socrec');

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'soc-live-test-'));
    certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
    port = await freePort();
    const started = await startSensorProcess({
      kind: 'cli',
      runner: 'tsx',
      args: ['--listen', `localhost:${port}`, '--name', 'live-test', '--record', recording()],
      env: certs.sensorEnv,
      echo: !!process.env.TEST_VERBOSE,
    });
    sensor = started.child;
    sensorExit = started.exited;
    epoch = started.epoch;
    client = createSensorClient(
      `localhost:${port}`,
      readTlsMaterial({ ca: certs.files.ca, cert: certs.files.cockpitCert, key: certs.files.cockpitKey }),
    );
    const call = client.watch(WatchRequest.fromPartial({}));
    call.on('data', (batch: EventBatch) => {
      batches.push(batch);
      events.push(...batch.events);
    });
    call.on('error', () => {});
  }, 90_000);

  afterAll(async () => {
    client?.close();
    if (sensor && sensor.exitCode === null) sensor.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("streams the exec/fork/exit chain of sh -c 'sh -c \"exec sleep 1\"' with parent links and argv", async () => {
    await waitFor('seeded processes', () => events.some((e) => e.body?.$case === 'exec' && e.body.value.seeded));
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const child = spawn('sh', ['-c', 'sh -c "exec sleep 1"'], { stdio: 'ignore' });
    const outerPid = child.pid!;
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    const endedNs = BigInt(Date.now()) * 1_000_000n;

    const execOf = (pred: (e: Event, x: Extract<Event['body'], { $case: 'exec' }>['value']) => boolean) =>
      events.find((e) => e.body?.$case === 'exec' && pred(e, e.body.value));
    await waitFor('the sleep exit', () => {
      const sleep = execOf((e, x) => x.argv.join(' ') === 'sleep 1' && x.ppid !== 0 && isDescendantPid(e.pid));
      return !!sleep && events.some((e) => e.body?.$case === 'exit' && e.execId === sleep.execId);
    });
    function isDescendantPid(pid: number) {
      return pid === outerPid || events.some((e) => e.body?.$case === 'fork' && e.body.value.childPid === pid && e.pid === outerPid);
    }

    // The outer shell: forked by this test process, then exec'd with its argv.
    const outer = execOf((e, x) => e.pid === outerPid && x.argv.join('\u0000') === ['sh', '-c', 'sh -c "exec sleep 1"'].join('\u0000'));
    expect(outer, 'exec of the outer sh').toBeDefined();
    const outerExec = asExec(outer!);
    expect(outerExec.ppid).toBe(process.pid);
    expect(outerExec.binary).toMatch(/\/(dash|sh|bash)$/);
    expect(outerExec.seeded).toBe(false);
    const testFork = events.find((e) => e.body?.$case === 'fork' && e.body.value.childPid === outerPid);
    expect(testFork, 'fork of the outer sh from this process').toBeDefined();
    expect(testFork!.pid).toBe(process.pid);
    expect(outerExec.parentExecId).toBe(testFork!.execId);
    expect(seq(testFork!)).toBeLessThan(seq(outer!));

    // The inner shell: its parent image is the outer shell (forked from it, or exec'd over it).
    const inner = execOf((_e, x) => x.argv.join('\u0000') === ['sh', '-c', 'exec sleep 1'].join('\u0000') && x.parentExecId === outer!.execId);
    expect(inner, 'exec of the inner sh').toBeDefined();
    if (inner!.pid !== outerPid) {
      const fork = events.find((e) => e.body?.$case === 'fork' && e.body.value.childPid === inner!.pid);
      expect(fork?.execId).toBe(outer!.execId);
      expect(asExec(inner!).ppid).toBe(outerPid);
      expect(seq(fork!)).toBeLessThan(seq(inner!));
    }

    // `exec sleep 1` replaces the inner shell's image in the same process.
    const sleep = execOf((e, x) => e.pid === inner!.pid && x.argv.join(' ') === 'sleep 1');
    expect(sleep, 'exec of sleep').toBeDefined();
    expect(asExec(sleep!).parentExecId).toBe(inner!.execId);
    expect(asExec(sleep!).binary).toMatch(/\/sleep$/);
    expect(seq(inner!)).toBeLessThan(seq(sleep!));

    // Exits: sleep's image ends with status 0; so does the outer shell when it forked.
    const sleepExit = events.find((e) => e.body?.$case === 'exit' && e.execId === sleep!.execId && e.pid === inner!.pid);
    expect(sleepExit?.body).toEqual({ $case: 'exit', value: { exitCode: 0, signal: 0 } });
    expect(seq(sleep!)).toBeLessThan(seq(sleepExit!));
    if (inner!.pid !== outerPid) {
      const outerExit = events.find((e) => e.body?.$case === 'exit' && e.execId === outer!.execId && e.pid === outerPid);
      expect(outerExit?.body).toEqual({ $case: 'exit', value: { exitCode: 0, signal: 0 } });
    }

    // Wall-clock nanoseconds, in order along the chain, within the test's own clock (±1 s).
    const chain = [testFork!, outer!, inner!, sleep!, sleepExit!];
    for (const e of chain) {
      expect(BigInt(e.tsNs) > startedNs - 1_000_000_000n && BigInt(e.tsNs) < endedNs + 1_000_000_000n).toBe(true);
      expect(e.node).toBe(os.hostname());
    }
    for (let i = 1; i < chain.length; i++) expect(BigInt(chain[i]!.tsNs) >= BigInt(chain[i - 1]!.tsNs)).toBe(true);
  }, 60_000);

  it('sends contiguous seqs in one epoch without gaps', () => {
    expect(batches.length).toBeGreaterThan(0);
    let expected = 1;
    for (const b of batches) {
      expect(b).toMatchObject({ sensor: 'live-test', epoch, gap: false });
      expect(Number(b.firstSeq)).toBe(expected);
      expect(b.events.map((e) => Number(e.seq))).toEqual(Array.from({ length: b.events.length }, (_, i) => expected + i));
      expected = Number(b.lastSeq) + 1;
    }
  });

  it('stops on SIGTERM with status 0 and leaves a recording of what it sent', async () => {
    const seen = events.length;
    sensor.kill('SIGTERM');
    expect(await sensorExit).toBe(0);
    const rec = await readRecording(recording());
    expect(rec.problem).toBeNull();
    expect(rec.header.recordedBy).toMatch(/^soc-sensor /);
    expect(rec.header).toMatchObject({ sensor: 'live-test', node: os.hostname(), kernelRelease: os.release() });
    const recorded = rec.batches.flatMap((b) => b.events);
    expect(rec.batches[0]!.epoch).toBe(epoch);
    // The recording holds at least what this client received, identically.
    expect(recorded.length).toBeGreaterThanOrEqual(seen);
    expect(recorded.slice(0, seen)).toEqual(events.slice(0, seen));
  }, 30_000);

  it('replays that recording through the sensor CLI: same epoch, same batches', async () => {
    const rec = await readRecording(recording());
    const replayPort = await freePort();
    const replay = await startSensorProcess({
      kind: 'cli',
      runner: 'tsx',
      args: ['--replay', recording(), '--speed', 'max', '--listen', `localhost:${replayPort}`],
      env: certs.sensorEnv,
    });
    try {
      const replayClient = createSensorClient(
        `localhost:${replayPort}`,
        readTlsMaterial({ ca: certs.files.ca, cert: certs.files.cockpitCert, key: certs.files.cockpitKey }),
      );
      const served: EventBatch[] = [];
      const call = replayClient.watch(WatchRequest.fromPartial({}));
      call.on('data', (b: EventBatch) => served.push(b));
      call.on('error', () => {});
      await waitFor('all recorded batches', () => served.length >= rec.batches.length);
      call.cancel();
      replayClient.close();
      expect(served).toEqual(rec.batches);
      replay.child.kill('SIGTERM');
      expect(await replay.exited).toBe(0);
    } finally {
      if (replay.child.exitCode === null) replay.child.kill('SIGKILL');
    }
  }, 60_000);
});

function asExec(e: Event) {
  if (e.body?.$case !== 'exec') throw new Error(`not an exec: ${JSON.stringify(e)}`);
  return e.body.value;
}

function seq(e: Event): number {
  return Number(e.seq);
}

describe.skipIf(!probe.ok)('live sensor CLI: first-seen facts settings', () => {
  it('--facts-off and --path-classes reach the kernel side: no per-syscall program, the classes logged', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'soc-live-facts-'));
    const certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
    const classes = path.join(dir, 'classes.json');
    await writeFile(classes, JSON.stringify([{ name: 'vault_token', patterns: ['*vault-token*'] }]));
    const port = await freePort();
    const started = await startSensorProcess({
      kind: 'cli',
      runner: 'tsx',
      args: ['--listen', `localhost:${port}`, '--name', 'facts-test', '--facts-off', 'syscalls,files,counters,inbound', '--path-classes', classes],
      env: certs.sensorEnv,
      echo: !!process.env.TEST_VERBOSE,
    });
    const client = createSensorClient(
      `localhost:${port}`,
      readTlsMaterial({ ca: certs.files.ca, cert: certs.files.cockpitCert, key: certs.files.cockpitKey }),
    );
    try {
      const st = await new Promise<SensorStatus>((resolve, reject) => client.status({}, (err, res) => (err ? reject(err) : resolve(res))));
      const attached = (name: string) => st.programs.find((p) => p.name === name)?.attached;
      expect(attached('facts_sys_enter')).toBe(false);
      expect(attached('facts_iouring_submit')).toBe(true);
      expect(attached('facts_connect4')).toBe(true);
      const logged = started.lines
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'first-seen facts');
      expect(logged).toMatchObject({ syscalls: false, files: false, inbound: false, ioUring: true, endpoints: true, countersIntervalS: 0, pathClasses: ['vault_token'] });
    } finally {
      client.close();
      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
