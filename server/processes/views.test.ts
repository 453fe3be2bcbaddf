import { describe, expect, it } from 'vitest';
import type { ProcessRecord } from '../../db/repositories/processes';
import { toAncestryView } from './views';

function record(execId: string, parentExecId: string): ProcessRecord {
  return {
    execId, parentExecId, node: 'n', pid: 1, ppid: 0, uid: 0, gid: 0, binary: '/bin/x', argv: ['x'], cwd: '/', comm: 'x',
    cgroupId: '1', cgroupPath: '/', container: { runtime: '', containerId: '', podUid: '', podName: '', namespace: '' },
    workload: { key: 'host/bin/x', kind: 'host', namespace: '', name: '/bin/x', container: '' },
    seeded: false, startNs: '1', firstSeenNs: '1', lastSeenNs: '2', exited: false, exitNs: null, exitCode: null, exitSignal: null,
  };
}

describe('ancestry view', () => {
  it('names why the chain ends', () => {
    expect(toAncestryView([record('c', 'b'), record('b', '')], 64).end).toBe('root');
    expect(toAncestryView([record('c', 'b'), record('b', 'a')], 64).end).toBe('parent_not_recorded');
    expect(toAncestryView([record('c', 'b'), record('b', 'a')], 2).end).toBe('depth_limit');
    expect(toAncestryView([record('c', 'b'), record('b', 'c')], 64).end).toBe('cycle');
  });

  it('keeps the process first and only the brief fields', () => {
    const view = toAncestryView([record('c', 'b'), record('b', '')], 64);
    expect(view.chain.map((p) => p.execId)).toEqual(['c', 'b']);
    expect(Object.keys(view.chain[0]!)).not.toContain('cgroupPath');
  });
});
