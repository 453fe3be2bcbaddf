import { afterEach, describe, expect, it } from 'vitest';
import { WORKLOAD_PROFILE } from '../../db/repositories/baselines';
import { allowEntry, importContainer } from '../baselines/changes';
import type { LearningWindow } from './config';
import { Detector, indicatorId } from './detector';
import type { Explanation } from './explain';
import { inputs, memoryStore } from './testing';

// The detector against an in-memory store (storage round trips: detection.servertest.ts), with
// an injected wall clock: windows, folding, rules, own activity, restarts.
const S = 1_000_000_000n;
const T0 = 1_800_000_000n * S;
const WINDOW: LearningWindow = { minNs: 10n * S, quietNs: 5n * S, maxNs: 120n * S };
const W = 'cgroup/soc-test/wl-a';
const LOOP = '/opt/soc/syscall_loop';
const STARTUP = ['execve', 'brk', 'mmap', 'openat', 'read', 'close', 'getppid', 'write', 'exit_group'];

const detectors: Detector[] = [];
afterEach(async () => {
  for (const d of detectors.splice(0)) await d.stop();
});

function setup(options: { isOwn?: (execId: string) => boolean; store?: ReturnType<typeof memoryStore> } = {}) {
  const store = options.store ?? memoryStore();
  const clock = { wall: T0 };
  const detector = new Detector({ store, window: WINDOW, wallNs: () => clock.wall, tickMs: 3_600_000, syncMs: 0, graceMs: 1000, isOwn: options.isOwn });
  detectors.push(detector);
  return { store, clock, detector, in: inputs() };
}

/** One image of the loop in `workload` at `t`: its exec and its startup syscalls (+ extra). */
function loopImage(i: ReturnType<typeof inputs>, execId: string, t: bigint, workload = W, extra: string[] = []) {
  return [i.exec(execId, LOOP, workload, t), ...[...STARTUP, ...extra].map((name, k) => i.syscall(execId, name, t + BigInt(k) * 1_000_000n))];
}

describe('detector', () => {
  it('learns a profile, completes it when a fact comes after the window, then raises one explained indicator', async () => {
    const { store, detector, in: i } = setup();
    await detector.process(loopImage(i, 'n:a:1:100:1', T0));
    await detector.process(loopImage(i, 'n:a:2:101:1', T0 + 3n * S)); // the same behaviour: nothing new
    expect(store.indicators.size).toBe(0);
    const profile = detector.profiles.get(W, LOOP)!;
    expect(profile.state.status).toBe('learning');
    expect(profile.valuesOf('syscall')).toEqual(STARTUP);
    expect(detector.profiles.get(W, WORKLOAD_PROFILE)!.valuesOf('exec')).toEqual([LOOP]);

    // 20 s later (window: ≥ 10 s, 5 s quiet): the same startup, then io_uring_setup.
    await detector.process(loopImage(i, 'n:a:3:102:1', T0 + 20n * S, W, ['io_uring_setup']));
    expect(profile.state).toMatchObject({ status: 'completed', version: 2, completedBy: 'window', completedAtNs: T0 + 10n * S });
    expect(store.profiles.get(`${W}|${LOOP}`)).toMatchObject({ status: 'completed', version: 2, entries: STARTUP.length });
    const all = [...store.indicators.values()];
    expect(all).toHaveLength(1);
    const ind = all[0]!;
    expect(ind).toMatchObject({
      id: indicatorId(W, LOOP, 'syscall', 'io_uring_setup', 2),
      workload: W,
      executable: LOOP,
      execId: 'n:a:3:102:1',
      kind: 'syscall',
      value: 'io_uring_setup',
      severity: 'high',
      deviation: true,
      rules: ['io_uring-first-use'],
      profileVersion: 2,
      profileStatus: 'completed',
      count: '1',
      state: 'open',
    });
    const x = JSON.parse(ind.explanation) as Explanation;
    expect(x.profile).toMatchObject({ startedAtNs: T0.toString(), completedAtNs: (T0 + 10n * S).toString(), completedBy: 'window', entriesOfKind: STARTUP.length, window: { minNs: '10000000000', quietNs: '5000000000' } });
    expect(ind.sentence).toContain('First syscall io_uring_setup by syscall_loop in cgroup/soc-test/wl-a: its profile (v2, learned');
    expect(ind.sentence).toMatch(/Rule "io_uring in a workload that never used it": syscall_loop used io_uring \(io_uring_setup\)/);
    // What the rule flagged was not learned.
    expect(profile.has('syscall', 'io_uring_setup')).toBe(false);
  });

  it('completes windows on its timer (event time + real time, after a grace period)', async () => {
    const { store, clock, detector, in: i } = setup();
    await detector.process(loopImage(i, 'n:a:1:100:1', T0));
    clock.wall = T0 + 10n * S; // the window closes at T0 + 10 s …
    await detector.checkWindows();
    expect(detector.profiles.get(W, LOOP)!.state.status).toBe('learning'); // … but the grace is 1 s
    clock.wall = T0 + 11n * S;
    await detector.checkWindows();
    expect(detector.profiles.get(W, LOOP)!.state).toMatchObject({ status: 'completed', completedAtNs: T0 + 10n * S });
    expect(store.profiles.get(`${W}|${LOOP}`)!.status).toBe('completed');
  });

  it('folds repeats of the same fact in the same workload into one indicator with a count', async () => {
    const { store, detector, in: i } = setup();
    await detector.process(loopImage(i, 'n:a:1:100:1', T0));
    await detector.checkWindows();
    const later = T0 + 30n * S;
    await detector.process([i.syscall('n:a:1:100:1', 'ptrace', later)]);
    // The same image again (a repeat the sensor would not send, or a second fact naming it): once.
    await detector.process([i.syscall('n:a:1:100:1', 'ptrace', later + S)]);
    await detector.process([...loopImage(i, 'n:a:2:101:1', later + 2n * S, W, ['ptrace']), ...loopImage(i, 'n:a:3:102:1', later + 3n * S, W, ['ptrace'])]);
    const ptrace = [...store.indicators.values()].filter((x) => x.value === 'ptrace');
    expect(ptrace).toHaveLength(1);
    expect(ptrace[0]).toMatchObject({ count: '3', execId: 'n:a:1:100:1', lastExecId: 'n:a:3:102:1', lastSeenNs: (later + 3n * S + 9_000_000n).toString(), severity: 'medium', rules: [] });
    expect(ptrace[0]!.execIds).toEqual(['n:a:1:100:1', 'n:a:2:101:1', 'n:a:3:102:1']);
    // Another workload is another indicator (and first learns its own profile).
    await detector.process(loopImage(i, 'n:a:4:103:1', later, 'cgroup/soc-test/wl-b', ['ptrace']));
    expect([...store.indicators.values()].filter((x) => x.value === 'ptrace')).toHaveLength(1);
  });

  it('a ring creation and the io_uring_setup syscall of one image are one fact', async () => {
    const { store, detector, in: i } = setup();
    // io_uring during learning: the rule fires, and io_uring_enter is not learned …
    await detector.process(loopImage(i, 'n:a:1:100:1', T0, W, ['io_uring_enter']));
    const enter = [...store.indicators.values()].find((x) => x.value === 'io_uring_enter')!;
    expect(enter).toMatchObject({ rules: ['io_uring-first-use'], deviation: false, profileStatus: 'learning' });
    // … until an analyst allows it: the workload now uses io_uring legitimately.
    await detector.run(async () => {
      const w = allowEntry(detector.profiles, { workload: W, executable: LOOP, kind: 'syscall', value: 'io_uring_enter', reason: 'uses io_uring for its disk I/O', actor: 'ana', indicatorId: enter.id, atNs: T0 + S });
      detector.touch(w.profiles, w.entries);
    });
    await detector.checkWindows();
    await detector.process([
      i.exec('n:a:2:101:1', LOOP, W, T0 + 40n * S),
      i.syscall('n:a:2:101:1', 'io_uring_setup', T0 + 40n * S),
      i.fact('n:a:2:101:1', 'syscall', 'io_uring_setup', T0 + 40n * S + 1n, { ioUring: true, detail: { sqpoll: false } }),
    ]);
    const setups = [...store.indicators.values()].filter((x) => x.value === 'io_uring_setup');
    expect(setups).toHaveLength(1);
    expect(setups[0]!.count).toBe('1');
    // The workload's profile has io_uring: no rule, a deviation only (still high: io_uring_*).
    expect(setups[0]).toMatchObject({ rules: [], deviation: true, severity: 'high', profileVersion: 3 });
    const x = JSON.parse(setups[0]!.explanation) as Explanation;
    expect(x.nearest[0]).toMatchObject({ value: 'io_uring_enter', reason: 'same family (io_uring)', source: 'allowed', actor: 'ana', why: 'uses io_uring for its disk I/O' });
    expect(setups[0]!.sentence).toContain('Nearest allowed: io_uring_enter (same family (io_uring), allowed).');
  });

  it('never learns from or alerts on its own activity (the sensor’s marks and the cockpit’s own process)', async () => {
    const { store, detector, in: i } = setup({ isOwn: (id) => id === 'n:a:9:999:1' });
    await detector.process([
      i.exec('n:a:8:888:1', '/usr/bin/node', 'host/usr/bin/node', T0, { own: true }),
      i.syscall('n:a:8:888:1', 'io_uring_setup', T0),
      i.exec('n:a:9:999:1', '/usr/bin/node', 'host/usr/bin/node', T0),
      i.syscall('n:a:9:999:1', 'io_uring_setup', T0),
      i.fact('n:a:9:999:1', 'file', '/root/.kube/config', T0, { pathClass: 'kube_config', own: false }),
    ]);
    expect(detector.profiles.profilesOf('host/usr/bin/node')).toEqual([]);
    expect(store.indicators.size).toBe(0);
    expect(detector.stats.ownSkipped).toBe(5);
  });

  it('raises known-bad rules while learning, without learning what they flag; an allow makes it normal', async () => {
    const { store, detector, in: i } = setup();
    const token = '/var/run/secrets/kubernetes.io/serviceaccount/token';
    await detector.process([...loopImage(i, 'n:a:1:100:1', T0), i.fact('n:a:1:100:1', 'file', token, T0 + S, { pathClass: 'service_account_token' })]);
    const ind = [...store.indicators.values()];
    expect(ind).toHaveLength(1);
    expect(ind[0]).toMatchObject({ kind: 'file', value: token, rules: ['token-read'], deviation: false, profileStatus: 'learning', profileVersion: 1, severity: 'high' });
    expect(ind[0]!.sentence).toContain('still learning');
    expect(detector.profiles.get(W, LOOP)!.has('file', token)).toBe(false);

    await detector.run(async () => {
      const w = allowEntry(detector.profiles, { workload: W, executable: LOOP, kind: 'file', value: token, reason: 'the app reads its token', actor: 'ana', indicatorId: ind[0]!.id, atNs: T0 + 2n * S });
      detector.touch(w.profiles, w.entries);
      detector.markAllowed(ind[0]!.id);
    });
    await detector.idle();
    expect(store.indicators.get(ind[0]!.id)!.state).toBe('allowed');
    expect(store.entries.filter((e) => e.source === 'allowed')).toEqual([expect.objectContaining({ value: token, actor: 'ana', reason: 'the app reads its token', indicatorId: ind[0]!.id })]);
    await detector.process([...loopImage(i, 'n:a:2:101:1', T0 + 3n * S), i.fact('n:a:2:101:1', 'file', token, T0 + 3n * S, { pathClass: 'service_account_token' })]);
    expect(store.indicators.size).toBe(1);
  });

  it('flags an executable never started in a completed workload', async () => {
    const { store, detector, in: i } = setup();
    await detector.process(loopImage(i, 'n:a:1:100:1', T0));
    await detector.checkWindows();
    await detector.process([i.exec('n:a:2:101:1', '/usr/bin/curl', W, T0 + 60n * S)]);
    const [ind] = [...store.indicators.values()];
    expect(ind).toMatchObject({ kind: 'exec', value: '/usr/bin/curl', executable: '*', execId: 'n:a:2:101:1', severity: 'medium', deviation: true });
    expect(ind!.sentence).toContain('First executable started /usr/bin/curl by the workload in cgroup/soc-test/wl-a');
  });

  it('raises a shell spawned by a server during learning too', async () => {
    const { store, detector, in: i } = setup();
    await detector.process([
      i.exec('n:a:1:100:1', '/usr/local/bin/node', W, T0),
      i.fact('n:a:1:100:1', 'endpoint', ':8080/tcp inbound', T0 + S, { inbound: true }),
      i.exec('n:a:2:101:1', '/bin/sh', W, T0 + 2n * S, { parentExecId: 'n:a:1:100:1' }),
    ]);
    const [ind] = [...store.indicators.values()];
    expect(ind).toMatchObject({ kind: 'exec', value: '/bin/sh', rules: ['shell-from-server'], severity: 'high', deviation: false });
  });

  it('picks its state up again after a restart and keeps folding idempotently', async () => {
    const first = setup();
    await first.detector.process(loopImage(first.in, 'n:a:1:100:1', T0));
    await first.detector.checkWindows();
    await first.detector.process([first.in.syscall('n:a:1:100:1', 'ptrace', T0 + 30n * S)]);
    await first.detector.stop();
    const known = { node: 'node-a', binary: LOOP, workload: { key: W, kind: 'cgroup', namespace: '', name: '', container: '' }, parentExecId: '', seeded: false };
    const store = memoryStore(new Map([['n:a:1:100:1', known], ['n:a:7:107:1', known]]), first.store);
    const second = setup({ store });
    await second.detector.start();
    expect(second.detector.profiles.get(W, LOOP)!.state).toMatchObject({ status: 'completed', version: 2 });
    // The collector redoing the last unit after a crash hands the same fact again: not counted twice.
    await second.detector.process([second.in.syscall('n:a:1:100:1', 'ptrace', T0 + 30n * S)]);
    // An image seen exec before the restart is looked up in storage (here: the memory store).
    await second.detector.process([second.in.syscall('n:a:7:107:1', 'ptrace', T0 + 31n * S)]);
    const ptrace = [...first.store.indicators.values()].filter((x) => x.value === 'ptrace');
    expect(ptrace).toHaveLength(1);
    expect(ptrace[0]).toMatchObject({ count: '2', execIds: ['n:a:1:100:1', 'n:a:7:107:1'] });
    expect(second.detector.stats.unknownExec).toBe(0);
  });

  it('keeps what it could not write and writes it with the next flush', async () => {
    const { store, detector, in: i } = setup();
    store.failNext = 1;
    await detector.process(loopImage(i, 'n:a:1:100:1', T0));
    expect(store.entries).toHaveLength(0);
    expect(detector.stats.writeFailures).toBe(1);
    await detector.idle();
    expect(store.entries.map((e) => e.value)).toEqual([LOOP, ...STARTUP]);
  });

  it('after an import the baseline is authoritative: a new executable starts completed', async () => {
    const { store, detector, in: i } = setup();
    await detector.run(async () => {
      const w = importContainer(
        detector.profiles,
        { workload: W, info: { kind: 'cgroup', namespace: '', name: 'soc-test/wl-a', container: '' }, container: { name: 'a' } as never, entries: [{ kind: 'syscall', value: 'read', detail: {}, position: 0 }, { kind: 'exec', value: LOOP, detail: { args: [] }, position: 1 }] },
        { atNs: T0, window: WINDOW, actor: 'ana' },
      );
      detector.touch(w.profiles, w.entries);
    });
    await detector.process([i.exec('n:a:1:100:1', LOOP, W, T0 + S), i.syscall('n:a:1:100:1', 'read', T0 + S), i.syscall('n:a:1:100:1', 'getppid', T0 + S)]);
    expect([...store.indicators.values()].map((x) => [x.kind, x.value, x.deviation])).toEqual([['syscall', 'getppid', true]]);
    expect(detector.profiles.get(W, LOOP)!.state).toMatchObject({ status: 'completed', completedBy: 'import' });
  });
});
