import { describe, expect, it } from 'vitest';
import type { Event } from '../gen/soc/sensor/v1/sensor';
import { CgroupScope } from './scope';

const exec = (execId: string, pid: number, cgroupPath: string): Event => ({
  seq: '0', tsNs: '1', node: 'n', execId, pid, tid: pid,
  body: {
    $case: 'exec',
    value: {
      parentExecId: '', ppid: 1, uid: 0, gid: 0, auid: 0, binary: '/bin/sh', argv: [], argvTruncated: false, cwd: '/', comm: 'sh',
      cgroupId: '1', cgroupPath, container: undefined, seeded: false, startNs: '1', workload: undefined,
    },
  },
});
const fork = (execId: string, child: number): Event => ({ seq: '0', tsNs: '1', node: 'n', execId, pid: child, tid: child, body: { $case: 'fork', value: { childPid: child, parentPid: 1 } } });
const exit = (execId: string, pid: number): Event => ({ seq: '0', tsNs: '1', node: 'n', execId, pid, tid: pid, body: { $case: 'exit', value: { exitCode: 0, signal: 0 } } });

describe('cgroup scope', () => {
  it('keeps the images exec’d inside the subtree and all their later events', () => {
    const scope = new CgroupScope('/soc-recording/');
    const inside = 'n:0a1b2c3d:1:10:1';
    const nested = 'n:0a1b2c3d:2:11:1';
    const outside = 'n:0a1b2c3d:3:12:1';
    const kept = scope.filter([
      exec(inside, 10, '/soc-recording'),
      exec(nested, 11, '/soc-recording/child'),
      exec(outside, 12, '/soc-recording-other'),
      fork(inside, 13),
      fork(outside, 14),
      exit(inside, 13),
      exit(outside, 12),
    ]);
    expect(kept.map((e) => `${e.body!.$case}:${e.pid}`)).toEqual(['exec:10', 'exec:11', 'fork:13', 'exit:13']);
  });

  it('forgets an image once the pid that exec’d it exits', () => {
    const scope = new CgroupScope('/w');
    const id = 'n:0a1b2c3d:1:10:1';
    expect(scope.filter([exec(id, 10, '/w'), exit(id, 10)])).toHaveLength(2);
    expect(scope.filter([fork(id, 20)])).toEqual([]);
  });

  it('refuses a relative path', () => {
    expect(() => new CgroupScope('soc')).toThrow(/absolute/);
  });
});
