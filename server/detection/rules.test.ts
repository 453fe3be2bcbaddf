import { describe, expect, it } from 'vitest';
import { deviationSeverity, evaluateRules, maxSeverity, RULES, type RuleContext } from './rules';

const base: RuleContext = {
  workload: 'k8s/shop/checkout-api/api',
  executable: '/usr/local/bin/node',
  kind: 'syscall',
  value: 'openat',
  ioUring: false,
  pathClass: '',
  workloadUsedIoUring: false,
  parent: null,
  seeded: false,
};
const ids = (ctx: Partial<RuleContext>) => evaluateRules({ ...base, ...ctx }).map((h) => h.id);

describe('known-bad rules', () => {
  it('every rule is high severity, with an id and a title', () => {
    expect(RULES.map((r) => [r.id, r.severity])).toEqual([
      ['io_uring-first-use', 'high'],
      ['shell-from-server', 'high'],
      ['token-read', 'high'],
    ]);
  });

  it('io_uring in a workload that never used it', () => {
    expect(ids({ value: 'io_uring_setup', ioUring: true })).toEqual(['io_uring-first-use']);
    expect(ids({ kind: 'io_uring_op', value: 'OPENAT', ioUring: true })).toEqual(['io_uring-first-use']);
    // A workload whose profile has io_uring (a database using it for disk I/O): nothing.
    expect(ids({ value: 'io_uring_setup', ioUring: true, workloadUsedIoUring: true })).toEqual([]);
    expect(ids({ value: 'openat' })).toEqual([]);
    expect(evaluateRules({ ...base, value: 'io_uring_setup', ioUring: true })[0]!.reason).toBe(
      'node used io_uring (io_uring_setup) and no profile of k8s/shop/checkout-api/api has ever included io_uring',
    );
  });

  it('a shell spawned by a server process', () => {
    const server = { executable: '/usr/local/bin/node', servesNetwork: true };
    expect(ids({ kind: 'exec', value: '/bin/sh', parent: server })).toEqual(['shell-from-server']);
    expect(ids({ kind: 'exec', value: '/usr/bin/bash', parent: server })).toEqual(['shell-from-server']);
    // Not a server (it never accepted a connection), not a shell, or seen only at sensor start.
    expect(ids({ kind: 'exec', value: '/bin/sh', parent: { ...server, servesNetwork: false } })).toEqual([]);
    expect(ids({ kind: 'exec', value: '/usr/bin/curl', parent: server })).toEqual([]);
    expect(ids({ kind: 'exec', value: '/bin/sh', parent: server, seeded: true })).toEqual([]);
    expect(ids({ kind: 'exec', value: '/bin/sh', parent: null })).toEqual([]);
    expect(evaluateRules({ ...base, kind: 'exec', value: '/bin/sh', parent: server })[0]!.reason).toBe('node, which serves network clients, started the shell /bin/sh');
  });

  it('a token file read', () => {
    const token = '/var/run/secrets/kubernetes.io/serviceaccount/token';
    expect(ids({ kind: 'file', value: token, pathClass: 'service_account_token' })).toEqual(['token-read']);
    expect(ids({ kind: 'file', value: '/root/.kube/config', pathClass: 'kube_config' })).toEqual(['token-read']);
    expect(ids({ kind: 'file', value: '/etc/shadow', pathClass: 'shadow' })).toEqual([]);
    expect(evaluateRules({ ...base, kind: 'file', value: token, pathClass: 'service_account_token' })[0]!.reason).toBe(`node opened ${token} (service account token)`);
  });

  it('severity of a deviation, and the highest of several', () => {
    expect(deviationSeverity('syscall', 'io_uring_setup', true)).toBe('high');
    expect(deviationSeverity('io_uring_op', 'CONNECT', true)).toBe('high');
    expect(deviationSeverity('syscall', 'ptrace', false)).toBe('medium');
    expect(deviationSeverity('exec', '/usr/bin/curl', false)).toBe('medium');
    expect(deviationSeverity('endpoint', '10.0.0.7:443/tcp', false)).toBe('medium');
    expect(deviationSeverity('endpoint', ':8443/tcp inbound', false)).toBe('low');
    expect(maxSeverity('low', 'high', 'medium')).toBe('high');
  });
});
