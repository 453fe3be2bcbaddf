import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/client';
import { selectRows } from '../../db/query';
import { openTestDb } from '../../db/testing';
import { Direction, FactKind, FactVia, type Event } from '../../sensor/gen/soc/sensor/v1/sensor';
import { silentLogger } from '../../sensor/src/log';
import { startRecorder } from '../../sensor/src/recording';
import { Journal } from '../../sensor/src/stream/journal';
import { freePort, startSensorProcess, waitFor as waitUntil } from '../../sensor/src/testing/process';
import { ensureCerts, type CertResult } from '../../sensor/src/tls/certs';
import { getCollectorState, startCollector, stopCollector, type StartCollectorOptions } from './collector';
import type { FactFoldOptions } from './factFold';
import { failingDb, firstSeqOf } from './testing';

// Folding repeated facts at storage, against real storage (embedded chDB) and the real sensor CLI
// replaying a recording written from synthetic events (a transport test: what a sensor observes
// is not tested here). The stream is a cron-like workload: every 5 s a `date` image (every 7th a
// `sleep`) reports the same seven syscalls, and a long-lived service a peer now and then.

const FOLD: FactFoldOptions = { windowMs: 60_000, maxKeys: 100_000, maxExecs: 65_536 };
const IMAGES = 240; // 20 minutes of the workload
const SYSCALLS = ['execve', 'brk', 'mmap', 'openat', 'read', 'close', 'exit_group'];
const BASE_NS = (BigInt(Date.now()) - 2n * 3_600_000n) * 1_000_000n;
const MS = 1_000_000n;

let dir: string;
let certs: CertResult;
let testDb: Awaited<ReturnType<typeof openTestDb>>;
let db: Db;
const children = new Set<ChildProcess>();

function cronEvents(node: string): { events: Event[]; facts: number } {
  const events: Event[] = [];
  let facts = 0;
  const fact = (execId: string, pid: number, tsNs: bigint, kind: FactKind, name: string, workload: string, direction = Direction.DIRECTION_UNSPECIFIED): Event => {
    facts++;
    return {
      seq: '0', tsNs: String(tsNs), node, execId, pid, tid: pid,
      body: {
        $case: 'fact',
        value: {
          kind, name, number: 0, via: FactVia.FACT_VIA_SYSCALL, abi: kind === FactKind.FACT_KIND_SYSCALL ? 'x86_64' : '', address: '', port: 0, protocol: '', direction,
          path: '', pathClass: '', openFlags: 0, pathRelative: false, ringFlags: 0, sqpoll: false, sqEntries: 0, cqEntries: 0, ringFlagNames: [], fd: 0, workload,
        },
      },
    };
  };
  for (let i = 0; i < IMAGES; i++) {
    const ts = BASE_NS + BigInt(i) * 5_000n * MS;
    const pid = 20_000 + i;
    const execId = `${node}:boot:${ts}:${pid}:1`;
    const binary = i % 7 === 3 ? '/usr/bin/sleep' : '/usr/bin/date';
    events.push({
      seq: '0', tsNs: String(ts), node, execId, pid, tid: pid,
      body: {
        $case: 'exec',
        value: {
          parentExecId: `${node}:boot:1:1:1`, ppid: 1, uid: 0, gid: 0, auid: 4294967295, binary, argv: [path.basename(binary)], argvTruncated: false, cwd: '/',
          comm: path.basename(binary), cgroupId: '1', cgroupPath: '/system.slice/cron.service', container: undefined, seeded: false, startNs: String(ts),
          workload: { key: 'systemd/cron.service', kind: 'systemd', namespace: '', name: 'cron.service', container: '', podName: '', nameSource: 'cgroup' },
        },
      },
    });
    SYSCALLS.forEach((name, k) => events.push(fact(execId, pid, ts + BigInt(k + 1) * MS, FactKind.FACT_KIND_SYSCALL, name, 'systemd/cron.service')));
    if (i % 4 === 0) {
      const svc = `${node}:boot:1:900:1`;
      events.push(fact(svc, 900, ts + 9n * MS, FactKind.FACT_KIND_ENDPOINT, `10.0.0.${i % 3}:443/tcp`, 'systemd/svc.service', Direction.DIRECTION_OUTBOUND));
    }
    events.push({ seq: '0', tsNs: String(ts + 20n * MS), node, execId, pid, tid: pid, body: { $case: 'exit', value: { exitCode: 0, signal: 0 } } });
  }
  return { events, facts };
}

/** A recording of the cron workload under its own sensor name; the replaying sensor's port. */
async function replayCron(sensor: string): Promise<{ port: number; events: number; facts: number }> {
  const file = path.join(dir, `${sensor}.socrec`);
  const journal = new Journal({ sensor, maxBatchEvents: 50, maxBatchDelayMs: 0 });
  const recorder = startRecorder({ file, journal, node: sensor, kernelRelease: 'test', startedAtNs: '1' });
  const { events, facts } = cronEvents(sensor);
  journal.append(events);
  journal.close();
  await recorder.done();
  const port = await freePort();
  const replay = await startSensorProcess({ kind: 'cli', args: ['--replay', file, '--speed', 'max', '--listen', `localhost:${port}`], env: certs.sensorEnv });
  children.add(replay.child);
  return { port, events: events.length, facts };
}

function collect(sensors: string, options: Partial<StartCollectorOptions> = {}) {
  startCollector({ sensors, db, statusIntervalMs: 200, backoffInitialMs: 50, backoffMaxMs: 500, logger: silentLogger, factFold: FOLD, detector: false, zooms: false, ...options });
}

function link(name: string) {
  const state = getCollectorState().sensors.find((s) => s.name === name);
  if (!state) throw new Error(`no link ${name}`);
  return state;
}

const waitFor = (what: string, condition: () => boolean) => waitUntil(what, condition, { timeoutMs: 45_000, context: () => JSON.stringify(getCollectorState()) });

/** The facts stored for a sensor, as (seq, binary, name) in seq order, and what its units record. */
async function storedFacts(sensor: string) {
  const rows = await selectRows<{ seqText: string; binary: string; name: string; n: string }>(db, {
    sql: `SELECT toString(seq) AS seqText, binary, name, toString(count()) AS n FROM facts WHERE sensor = {sensor:String} GROUP BY seq, binary, name ORDER BY seq`,
    params: { sensor },
    tag: 'test',
  });
  const [units] = await selectRows<{ factRows: string; folded: string }>(db, {
    sql: `SELECT toString(sum(fact_rows)) AS factRows, toString(sum(facts_folded)) AS folded
          FROM (SELECT fact_rows, facts_folded FROM sensor_batches WHERE sensor = {sensor:String} LIMIT 1 BY epoch, first_seq, last_seq)`,
    params: { sensor },
    tag: 'test',
  });
  return { rows, copies: Math.max(0, ...rows.map((r) => Number(r.n))), factRows: Number(units!.factRows), folded: Number(units!.folded) };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soc-fold-test-'));
  certs = await ensureCerts({ outDir: path.join(dir, 'pki') });
  Object.assign(process.env, certs.cockpitEnv);
  testDb = await openTestDb();
  db = testDb.db;
});

afterEach(async () => {
  await stopCollector();
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

afterAll(async () => {
  await testDb?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('collector folding repeated facts', () => {
  it('stores each fact of a workload and executable once per window, and counts the rest', async () => {
    const cron = await replayCron('fold-a');
    collect(`fold-a=localhost:${cron.port}`, { unitMaxEvents: 64 });
    await waitFor('all stored', () => link('fold-a').eventsStored === cron.events);
    const stored = await storedFacts('fold-a');
    const windows = new Set<number>();
    const windowsOf = new Map<string, Set<number>>();
    for (let i = 0; i < IMAGES; i++) {
      // Every image's syscalls lie 1–7 ms after its exec, far from a window's edge here.
      const w = Number((BASE_NS + BigInt(i) * 5_000n * MS + 4n * MS) / BigInt(FOLD.windowMs * 1_000_000));
      const binary = i % 7 === 3 ? '/usr/bin/sleep' : '/usr/bin/date';
      windows.add(w);
      windowsOf.set(binary, (windowsOf.get(binary) ?? new Set()).add(w));
    }
    const expectedSyscallRows = SYSCALLS.length * (windowsOf.get('/usr/bin/date')!.size + windowsOf.get('/usr/bin/sleep')!.size);
    const syscallRows = stored.rows.filter((r) => r.binary !== '');
    expect(syscallRows).toHaveLength(expectedSyscallRows);
    for (const name of SYSCALLS) expect(syscallRows.filter((r) => r.name === name && r.binary === '/usr/bin/date')).toHaveLength(windowsOf.get('/usr/bin/date')!.size);
    // The service's exec is not in the stream: its facts are keyed by its image, one per peer and window.
    expect(stored.rows.filter((r) => r.binary === '').length).toBeLessThanOrEqual(3 * windows.size);
    expect(stored.copies).toBe(1);
    expect(stored.factRows).toBe(stored.rows.length);
    expect(stored.folded + stored.rows.length).toBe(cron.facts);
    expect(link('fold-a').factsFolded).toBe(stored.folded);
    expect(stored.rows.length * 4).toBeLessThan(cron.facts);
  });

  it('stores the same facts exactly once through a crash before a unit\'s facts insert, as a run that never crashed', async () => {
    const reference = await replayCron('fold-b');
    collect(`fold-b=localhost:${reference.port}`, { unitMaxEvents: 64 });
    await waitFor('reference stored', () => link('fold-b').eventsStored === reference.events);
    await stopCollector();

    const cron = await replayCron('fold-c');
    const failing = failingDb(db, 'before', (token) => firstSeqOf(token) > 1000, 'facts');
    collect(`fold-c=localhost:${cron.port}`, { db: failing.db, unitMaxEvents: 150, unitEager: false, unitMaxDelayMs: 20 });
    await waitFor('a facts insert failing', () => failing.hits.length > 0 && /storage: store unit/.test(link('fold-c').lastError ?? ''));
    await stopCollector(); // the "crash": the unit's record and process events are stored, its facts are not
    const before = await storedFacts('fold-c');
    expect(before.factRows).toBeGreaterThan(before.rows.length); // the incomplete unit records facts it does not hold

    // A new collector, other unit limits: it redoes the incomplete unit with the fold rebuilt from storage.
    collect(`fold-c=localhost:${cron.port}`, { unitMaxEvents: 1000, unitMaxDelayMs: 200 });
    await waitFor('all stored', () => link('fold-c').lastStoredSeq === String(cron.events));
    const after = await storedFacts('fold-c');
    const expected = await storedFacts('fold-b');
    expect(after.copies).toBe(1);
    expect(after.rows).toEqual(expected.rows);
    expect(after.factRows).toBe(after.rows.length);
    expect(after.folded).toBe(expected.folded);
    const [shortfalls] = await selectRows<{ n: string }>(db, {
      sql: `SELECT toString(count()) AS n FROM sensor_gaps WHERE sensor = 'fold-c' AND kind = 'unit_shortfall'`,
      params: {},
      tag: 'test',
    });
    expect(shortfalls!.n).toBe('0');

    // Re-read from the beginning with other timing: every recorded unit formed again, nothing twice.
    await stopCollector();
    collect(`fold-c=localhost:${cron.port}`, { resume: 'beginning', unitMaxEvents: 16_384, unitMaxDelayMs: 1000 });
    await waitFor('received again', () => link('fold-c').eventsStored === cron.events);
    expect(await storedFacts('fold-c')).toEqual(after);
  });
});
