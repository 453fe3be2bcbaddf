import { describe, expect, it } from 'vitest';
import { explanationSentence, formatDuration, nearestEntries, similarity, type Explanation } from './explain';
import type { Entry } from './profiles';

const entry = (kind: Entry['kind'], value: string, extra: Partial<Entry> = {}): Entry => ({
  kind, value, detail: {}, source: 'learned', tsNs: '1', profileVersion: 1, position: 0, node: '', execId: '', actor: '', reason: '', indicatorId: '', ...extra,
});
const cands = (...entries: Entry[]) => entries.map((e) => ({ executable: '/app/bin', entry: e }));

describe('nearest allowed entries', () => {
  it('syscalls: the same family first, then a shared prefix; far ones are left out', () => {
    const near = nearestEntries('syscall', 'io_uring_setup', {}, cands(entry('syscall', 'getppid'), entry('syscall', 'io_uring_enter'), entry('syscall', 'ioctl'), entry('syscall', 'read')));
    expect(near.map((n) => [n.value, n.reason])).toEqual([['io_uring_enter', 'same family (io_uring)']]);
    expect(nearestEntries('syscall', 'epoll_pwait2', {}, cands(entry('syscall', 'epoll_ctl')))[0]!.reason).toBe('same family (epoll)');
    expect(nearestEntries('syscall', 'pidfd_open', {}, cands(entry('syscall', 'pidfd_getfd')))[0]!.reason).toBe('shares the prefix "pidfd_"');
  });

  it('an io_uring opcode is near the syscall doing the same without a ring', () => {
    const near = nearestEntries('io_uring_op', 'OPENAT', {}, cands(entry('syscall', 'openat'), entry('io_uring_op', 'READ')));
    expect(near[0]).toMatchObject({ kind: 'syscall', value: 'openat', reason: 'the same operation as a syscall (openat), without io_uring' });
  });

  it('endpoints: same peer, same port, same subnet', () => {
    const near = nearestEntries('endpoint', '10.0.0.7:4444/tcp', {}, cands(entry('endpoint', '10.0.0.7:5432/tcp'), entry('endpoint', '10.0.0.9:80/tcp'), entry('endpoint', '192.168.1.1:4444/tcp')));
    expect(near.map((n) => n.reason)).toEqual(['same peer 10.0.0.7, port 5432', 'same port 4444/tcp, another peer', 'same subnet']);
  });

  it('files and executables: class, directory, name; allowed ones say who', () => {
    const near = nearestEntries('file', '/var/run/secrets/kubernetes.io/serviceaccount/token', { class: 'service_account_token' }, cands(entry('file', '/run/secrets/kubernetes.io/serviceaccount/token', { detail: { class: 'service_account_token' }, source: 'allowed', actor: 'ana', reason: 'k8s client' })));
    expect(near[0]).toMatchObject({ reason: 'same class (service account token)', source: 'allowed', actor: 'ana', why: 'k8s client' });
    expect(similarity('exec', '/tmp/sh', entry('exec', '/bin/sh')).reason).toBe('same program name in /bin');
    expect(similarity('exec', '/usr/bin/curl', entry('exec', '/usr/bin/wget')).reason).toBe('same directory /usr/bin');
  });
});

describe('the sentence', () => {
  const S = 1_000_000_000n;
  const t0 = 1_795_000_000n * S;
  const x = (over: Partial<Explanation> = {}): Explanation => ({
    fact: { kind: 'syscall', value: 'io_uring_setup', node: 'n', execId: 'n:0a1b2c3d:1:2:3', tsNs: (t0 + 100n * S).toString(), detail: {} },
    profile: {
      workload: 'cgroup/soc-test/wl-a', executable: '/opt/bin/syscall_loop', version: 2, status: 'completed',
      startedAtNs: t0.toString(), lastNewAtNs: (t0 + 2n * S).toString(), completedAtNs: (t0 + 6n * S).toString(), completedBy: 'window',
      window: { minNs: (4n * S).toString(), quietNs: (3n * S).toString(), maxNs: (60n * S).toString() }, entries: 30, entriesOfKind: 28,
    },
    deviation: true,
    rules: [],
    nearest: [{ kind: 'syscall', value: 'io_uring_enter', source: 'learned', executable: '/opt/bin/syscall_loop', similarity: 0.8, reason: 'same family (io_uring)', actor: '', why: '' }],
    ...over,
  });

  it('names the fact, the executable, the workload, the version and the learning window', () => {
    expect(explanationSentence(x())).toBe(
      'First syscall io_uring_setup by syscall_loop in cgroup/soc-test/wl-a: its profile (v2, learned 2026-11-18 11:06:40–11:06:46 UTC, completed after 3 s with nothing new) allows 28 syscalls, not this one. Nearest allowed: io_uring_enter (same family (io_uring)).',
    );
  });

  it('says when nothing similar is allowed, then the rules that fired', () => {
    const text = explanationSentence(x({ nearest: [], rules: [{ id: 'io_uring-first-use', title: 'io_uring in a workload that never used it', severity: 'high', reason: 'syscall_loop used io_uring (io_uring_setup) and no profile of cgroup/soc-test/wl-a has ever included io_uring' }] }));
    expect(text).toMatch(/^First syscall io_uring_setup by syscall_loop/);
    expect(text).toContain('not this one. Nothing similar is allowed. Rule "io_uring in a workload that never used it": syscall_loop used io_uring');
  });

  it('says when a rule fired while the profile was still learning', () => {
    const text = explanationSentence(x({ deviation: false, nearest: [], profile: { ...x().profile, status: 'learning', completedAtNs: '0', completedBy: 'none', version: 1 }, rules: [{ id: 'token-read', title: 'a token file read', severity: 'high', reason: 'app opened /x/serviceaccount/token (service account token)' }] }));
    expect(text).toContain('is still learning (since 2026-11-18 11:06:40 UTC); rule hits are never learned.');
  });

  it('formats durations for people', () => {
    expect(['500ms', 3, 90, 600, 5400, 90000, 864000].map((v) => formatDuration(typeof v === 'string' ? 500_000_000n : BigInt(v) * S))).toEqual(['500 ms', '3 s', '2 min', '10 min', '1 h 30 min', '25 h', '10 d']);
  });
});
