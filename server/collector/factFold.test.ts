import { describe, expect, it } from 'vitest';
import { FACT_KINDS, type FactFoldHistory } from '../../db/repositories/sensorStream';
import { Direction, FactKind, FactVia, type Event, type Fact } from '../../sensor/gen/soc/sensor/v1/sensor';
import { FactFold, WINDOW_SLACK_NS, type FactFoldOptions } from './factFold';

const T0 = 1_763_800_000_000_000_000n; // a recent time (ns)
const MS = 1_000_000n;

function fact(kind: FactKind, name: string, workload: string, extra: Partial<Fact> = {}): Fact {
  return {
    kind, name, number: 0, via: FactVia.FACT_VIA_SYSCALL, abi: 'x86_64', address: '', port: 0, protocol: '', direction: Direction.DIRECTION_UNSPECIFIED,
    path: '', pathClass: '', openFlags: 0, pathRelative: false, ringFlags: 0, sqpoll: false, sqEntries: 0, cqEntries: 0, ringFlagNames: [], fd: 0, workload,
    ...extra,
  };
}

interface Step {
  seq: number;
  tsNs: string;
  execId: string;
  exec?: string;
  fact?: Fact;
}

/** What storage would hold of a stream the fold decided on: exec rows, and the admitted facts. */
interface Stored {
  execs: { seq: number; execId: string; binary: string }[];
  facts: { seq: number; tsNs: string; execId: string; binary: string; fact: Fact; window: number | null }[];
}

function run(fold: FactFold, steps: Step[], stored: Stored): boolean[] {
  const decisions: boolean[] = [];
  for (const step of steps) {
    if (step.exec !== undefined) {
      fold.exec(step.execId, step.exec);
      stored.execs.push({ seq: step.seq, execId: step.execId, binary: step.exec });
    }
    if (step.fact) {
      const event = { seq: String(step.seq), tsNs: step.tsNs, execId: step.execId } as Event;
      const binary = fold.binaryOf(step.execId);
      const admitted = fold.admit(event, step.fact, binary);
      decisions.push(admitted);
      if (admitted) stored.facts.push({ seq: step.seq, tsNs: step.tsNs, execId: step.execId, binary, fact: step.fact, window: fold.currentWindow });
    }
    fold.nextSeq = step.seq + 1;
  }
  return decisions;
}

/** factFoldHistory's three queries, over `stored` (the same filters, in memory). */
function history(stored: Stored, beforeSeq: number, opts: FactFoldOptions, probe: FactFold): FactFoldHistory {
  const lastByExec = new Map<string, { seq: number; binary: string }>();
  for (const e of stored.execs) if (e.seq < beforeSeq) lastByExec.set(e.execId, { seq: e.seq, binary: e.binary });
  const execs = [...lastByExec.entries()]
    .sort((a, b) => b[1].seq - a[1].seq)
    .slice(0, opts.maxExecs)
    .reverse()
    .map(([execId, e]) => ({ execId, binary: e.binary }));
  const before = stored.facts.filter((f) => f.seq < beforeSeq);
  if (before.length === 0) return { watermarkNs: null, facts: [], execs };
  const watermarkNs = before.reduce((m, f) => (BigInt(f.tsNs) > m ? BigInt(f.tsNs) : m), 0n).toString();
  const since = probe.windowStartNs(watermarkNs) - WINDOW_SLACK_NS;
  const from = Math.min(...before.filter((f) => BigInt(f.tsNs) >= since).map((f) => f.seq));
  const facts = before
    .filter((f) => f.seq >= from)
    .map((f) => ({
      seq: String(f.seq), tsNs: f.tsNs, workload: f.fact.workload, binary: f.binary, execId: f.execId, kind: FACT_KINDS[f.fact.kind]!, name: f.fact.name,
      abi: f.fact.abi, direction: ['unspecified', 'outbound', 'inbound'][f.fact.direction]!, via: ['unspecified', 'syscall', 'io_uring'][f.fact.via]!, path: f.fact.path,
    }));
  return { watermarkNs, facts, execs };
}

/**
 * A cron-like workload: every 5 s a new `date` image reports the same syscalls; a long-lived
 * service reports a new endpoint now and then; times wobble a little (several CPUs).
 */
function cronStream(images: number, seed = 7): Step[] {
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), x / 2 ** 31);
  const steps: Step[] = [];
  let seq = 1;
  for (let i = 0; i < images; i++) {
    const base = T0 + BigInt(i) * 5_000n * MS;
    const execId = `n:boot:${i}:${1000 + i}:1`;
    const binary = i % 7 === 3 ? '/usr/bin/sleep' : '/usr/bin/date';
    steps.push({ seq: seq++, tsNs: String(base), execId, exec: binary });
    for (const name of ['execve', 'brk', 'mmap', 'openat', 'read', 'close', 'exit_group']) {
      const wobble = BigInt(Math.floor(rand() * 3)) * MS - MS;
      steps.push({ seq: seq++, tsNs: String(base + 10n * MS + wobble), execId, fact: fact(FactKind.FACT_KIND_SYSCALL, name, 'host/cron') });
    }
    if (i % 4 === 0) {
      // Reported late: its time may lie in the window before the one the stream is in.
      steps.push({ seq: seq++, tsNs: String(base - 4_000n * MS), execId, fact: fact(FactKind.FACT_KIND_SYSCALL, 'futex', 'host/cron') });
    }
    if (i % 5 === 0) {
      const peer = `10.0.0.${i % 3}:443/tcp`;
      steps.push({ seq: seq++, tsNs: String(base + 20n * MS), execId: 'n:boot:svc:99:1', fact: fact(FactKind.FACT_KIND_ENDPOINT, peer, 'host/svc', { direction: Direction.DIRECTION_OUTBOUND }) });
    }
  }
  return steps;
}

const OPTS: FactFoldOptions = { windowMs: 60_000, maxKeys: 100_000, maxExecs: 65_536 };

describe('FactFold', () => {
  it('stores a fact the first time its workload, executable and key appear in a window, and counts the repeats', () => {
    const fold = new FactFold(OPTS, 'e1', 1);
    const stored: Stored = { execs: [], facts: [] };
    const steps = cronStream(30); // 150 s: windows of 60 s starting wherever T0 falls
    const decisions = run(fold, steps, stored);
    const windows = new Set(steps.filter((s) => s.fact).map((s) => fold.windowOf(s.tsNs)));
    // date: 7 syscalls per window it runs in; sleep: the same (a different executable); the
    // service: each peer once per window.
    const key = (f: Stored['facts'][number]) => `${f.fact.workload}|${f.binary}|${f.fact.name}|${f.window}`;
    expect(new Set(stored.facts.map(key)).size).toBe(stored.facts.length); // one row per key and window
    const dateWindows = new Set(steps.filter((s) => s.exec === '/usr/bin/date').map((s) => fold.windowOf(s.tsNs)));
    const dateRows = stored.facts.filter((f) => f.binary === '/usr/bin/date' && f.fact.name !== 'futex');
    expect(dateRows).toHaveLength(7 * dateWindows.size);
    expect(windows.size).toBeGreaterThanOrEqual(3);
    expect(decisions.filter((d) => !d)).toHaveLength(fold.folded);
    expect(fold.folded + stored.facts.length).toBe(decisions.length);
    // 30 images × 7 syscalls, 8 late ones, 6 endpoint facts, of which a few dozen are stored.
    expect(decisions.length).toBe(30 * 7 + 8 + 6);
    expect(stored.facts.length).toBeLessThan(decisions.length / 3);
  });

  it('keys an image whose exec it never saw by the image itself', () => {
    const fold = new FactFold(OPTS, 'e1', 1);
    const event = (execId: string) => ({ seq: '1', tsNs: String(T0), execId }) as Event;
    const f = fact(FactKind.FACT_KIND_SYSCALL, 'openat', 'host/x');
    expect(fold.admit(event('a'), f, fold.binaryOf('a'))).toBe(true);
    expect(fold.admit(event('b'), f, fold.binaryOf('b'))).toBe(true);
    expect(fold.admit(event('a'), f, fold.binaryOf('a'))).toBe(false);
    fold.exec('c', '/bin/x');
    fold.exec('d', '/bin/x');
    expect(fold.admit(event('c'), f, fold.binaryOf('c'))).toBe(true);
    expect(fold.admit(event('d'), f, fold.binaryOf('d'))).toBe(false);
  });

  it('remembers at most maxKeys keys per window: beyond them facts are stored, never lost', () => {
    const fold = new FactFold({ ...OPTS, maxKeys: 2 }, 'e1', 1);
    const event = { seq: '1', tsNs: String(T0), execId: 'a' } as Event;
    const admit = (name: string) => fold.admit(event, fact(FactKind.FACT_KIND_SYSCALL, name, 'w'), '/b');
    expect([admit('a'), admit('b'), admit('c'), admit('a'), admit('c'), admit('b')]).toEqual([true, true, true, false, true, false]);
  });

  it.each([
    ['unbounded', OPTS],
    ['with few keys and images remembered', { windowMs: 60_000, maxKeys: 9, maxExecs: 3 }],
    ['with short windows (a few images each)', { windowMs: 12_000, maxKeys: 100_000, maxExecs: 65_536 }],
  ])('rebuilt from what storage holds before any seq, decides the rest of the stream as the one that never stopped (%s)', (_, opts) => {
    const steps = cronStream(60);
    const whole: Stored = { execs: [], facts: [] };
    const reference = run(new FactFold(opts, 'e1', 1), steps, whole);
    let checked = 0;
    for (let cut = 1; cut < steps.length; cut += 13) {
      const stored: Stored = { execs: [], facts: [] };
      const head = steps.filter((s) => s.seq < cut);
      const tail = steps.filter((s) => s.seq >= cut);
      const first = run(new FactFold(opts, 'e1', 1), head, stored);
      const probe = new FactFold(opts, 'e1', cut);
      const rebuilt = FactFold.fromHistory(opts, 'e1', cut, history(stored, cut, opts, probe));
      expect([...first, ...run(rebuilt, tail, stored)]).toEqual(reference);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    expect(reference.some((d) => !d)).toBe(true);
  });
});
