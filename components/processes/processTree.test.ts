import { describe, expect, it } from 'vitest';
import type { ForkView, ProcessBrief } from '@/server/processes/views';
import { buildProcessTree, flattenTree } from './processTree';

function brief(execId: string, parentExecId: string, pid: number, binary: string, argv: string[]): ProcessBrief {
  return {
    execId, parentExecId, node: 'n', pid, ppid: 1, uid: 0, binary, argv, comm: binary.split('/').at(-1)!, seeded: false,
    startNs: '1', exited: false, exitNs: null, exitCode: null, exitSignal: null,
  };
}
const fork = (pid: number): ForkView => ({ pid, parentPid: 100, forkNs: '2', exited: true, exitNs: '3', exitCode: 0, exitSignal: 9 });

const INIT = brief('n:0:1:1:1', '', 1, '/sbin/init', ['/sbin/init']);
const OUTER = brief('n:0:2:100:1', INIT.execId, 100, '/usr/bin/sh', ['sh', '-c', 'sh -c "exec sleep 2"']);
const INNER = brief('n:0:3:101:2', OUTER.execId, 101, '/usr/bin/sh', ['sh', '-c', 'exec sleep 2']);
const SLEEP = brief('n:0:3:101:3', INNER.execId, 101, '/usr/bin/sleep', ['sleep', '2']);

const outline = (root: ReturnType<typeof buildProcessTree>) =>
  flattenTree(root).map(({ node, depth }) => `${'  '.repeat(depth)}${node.label} ${node.role}`);

describe('process tree', () => {
  it('puts the ancestry above the process and its children and forks below', () => {
    const tree = buildProcessTree([OUTER, INIT], [INNER], [fork(102)]);
    expect(outline(tree)).toEqual(['init [1] ancestor', '  sh [100] self', '    sh [101] child', '    fork [102] fork']);
    const [, , child, forked] = flattenTree(tree).map((x) => x.node);
    expect(child!.description).toBe(`/usr/bin/sh — sh -c 'exec sleep 2' — running`);
    expect(forked).toMatchObject({ execId: null, description: 'forked pid 102, same image — killed by SIGKILL (9)' });
  });

  it('shows a leaf process at the bottom of its chain', () => {
    const tree = buildProcessTree([SLEEP, INNER, OUTER, INIT], [], []);
    expect(outline(tree)).toEqual(['init [1] ancestor', '  sh [100] ancestor', '    sh [101] ancestor', '      sleep [101] self']);
    // The inner sh exec'd the sleep in its own pid: it ended there, though it has no exit event.
    expect(flattenTree(tree).map((x) => x.node.description.split(' — ')[2])).toEqual(['running', 'running', "exec'd sleep", 'running']);
  });

  it('marks the process itself as replaced when a child runs in its pid', () => {
    const tree = buildProcessTree([INNER, OUTER, INIT], [SLEEP], []);
    expect(flattenTree(tree).find((x) => x.node.role === 'self')?.node.description).toBe(`/usr/bin/sh — sh -c 'exec sleep 2' — exec'd sleep`);
  });

  it('never repeats a node when parent links loop', () => {
    // A corrupt chain: the "child" is also an ancestor, and the chain names itself twice.
    const tree = buildProcessTree([OUTER, INIT, OUTER], [INIT, INNER, INNER], [fork(7), fork(7)]);
    const keys = flattenTree(tree).map((x) => x.node.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual([OUTER.execId, INIT.execId, INNER.execId, 'fork:7']);
    expect(flattenTree(tree).find((x) => x.node.role === 'self')?.node.key).toBe(OUTER.execId);
  });

  it('has no tree without a process', () => {
    expect(buildProcessTree([], [INNER], [])).toBeNull();
  });
});
