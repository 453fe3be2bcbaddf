import { describe, expect, it } from 'vitest';
import type { Event } from '../../gen/soc/sensor/v1/sensor';
import { ProcessIndex } from './processes';

const ev = (pid: number, execId: string, body: Event['body'], own?: boolean): Event => ({ seq: '0', tsNs: '1', node: 'n', execId, pid, tid: pid, body, own });
const exec = (pid: number, execId: string, own?: boolean) =>
  ev(pid, execId, { $case: 'exec', value: { parentExecId: '', ppid: 1, uid: 0, gid: 0, auid: 0, binary: '/x', argv: [], argvTruncated: false, cwd: '/', comm: 'x', cgroupId: '0', cgroupPath: '', container: undefined, seeded: false, startNs: '1', workload: undefined } }, own);

describe('process index (exec id -> live tgids)', () => {
  it('follows exec, fork, exec again and exit', () => {
    const alive = new Set([10, 11, 12]);
    const idx = new ProcessIndex((pid) => alive.has(pid));
    idx.observe([exec(10, 'img-a'), ev(10, 'img-a', { $case: 'fork', value: { childPid: 11, parentPid: 10 } }), exec(12, 'img-b', true)]);
    expect(idx.tgidsOf('img-a')).toEqual([10, 11]);
    expect(idx.isOwn(12)).toBe(true);
    idx.observe([exec(11, 'img-c')]); // the child execs: a new image
    expect(idx.tgidsOf('img-a')).toEqual([10]);
    expect(idx.tgidsOf('img-c')).toEqual([11]);
    idx.observe([ev(11, 'img-a', { $case: 'exit', value: { exitCode: 0, signal: 0 } })]); // stale image: ignored
    expect(idx.execOf(11)).toBe('img-c');
    alive.delete(10); // its exit was lost: /proc says it is gone
    expect(idx.tgidsOf('img-a')).toEqual([]);
    expect(idx.execOf(10)).toBeUndefined();
  });
});
