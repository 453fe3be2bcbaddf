/**
 * KernelEventSource against the real kernel: process chains with their parent links, seeding of
 * a process that ran before the source, exit codes and signals, threads, drop counters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, ProcessExec, ProcessExit } from '../../gen/soc/sensor/v1/sensor';
import { CgroupResolver, DEFAULT_MIN_RESCAN_MS } from '../identity/cgroup';
import { parseCmdline, parseProcStat } from '../procfs/seed';
import { ALL_ZOOM_PROGRAMS } from './zoom';
import { KernelEventSource, probeKernel, readBootId } from './source';

const probe = probeKernel();
if (!probe.ok) console.warn(`kernel source live tests skipped: ${probe.reason}`);

const NODE = 'livetest-node';

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe.skipIf(!probe.ok)(`KernelEventSource (${probe.ok ? 'live' : (probe as { reason: string }).reason})`, () => {
  const events: Event[] = [];
  let source: KernelEventSource;
  let preexisting: ChildProcess;
  const tmp = realpathSync(os.tmpdir());

  const execs = () => events.filter((e) => e.body?.$case === 'exec');
  const exitOf = (pid: number) => events.find((e) => e.pid === pid && e.body?.$case === 'exit');
  const execValue = (e: Event | undefined): ProcessExec => {
    if (e?.body?.$case !== 'exec') throw new Error('not an exec event');
    return e.body.value;
  };
  const exitValue = (e: Event | undefined): ProcessExit => {
    if (e?.body?.$case !== 'exit') throw new Error('not an exit event');
    return e.body.value;
  };

  async function waitFor<T>(what: string, f: () => T | undefined, ms = 5000): Promise<T> {
    const until = Date.now() + ms;
    for (;;) {
      const v = f();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeAll(async () => {
    // Started before the source: it must come out of seeding, not from a live exec.
    preexisting = spawn('sleep', ['30'], { cwd: tmp, stdio: 'ignore' });
    await new Promise((r) => preexisting.once('spawn', r));
    await new Promise((r) => setTimeout(r, 50)); // let it exec
    source = new KernelEventSource({ node: NODE, ringBufferBytes: 1 << 24, onEvents: (evs) => events.push(...evs) });
    await source.start();
  });

  afterAll(async () => {
    preexisting?.kill('SIGKILL');
    await source?.stop();
    await source?.stop(); // safe twice
  });

  it('attaches every program and reports its status', () => {
    const st = source.status();
    expect(st.btfAvailable).toBe(true);
    expect(st.kernelRelease).toBe(os.release());
    expect(st.bootId).toBe(readBootId().bootId);
    const always = st.programs.filter((p) => !p.name.startsWith('zoom_'));
    expect(always.map((p) => [p.name, p.attachType, p.attached])).toEqual([
      ['on_exec', 'tp_btf', true],
      ['on_fork', 'tp_btf', true],
      ['on_exit', 'tp_btf', true],
      ['seed_tasks', 'iter', true],
      // first-seen facts (facts.livetest.ts tests what they report)
      ['facts_sys_enter', 'tp_btf', true],
      ['facts_iouring_submit', 'tp_btf', true],
      ['facts_iouring_create', 'tp_btf', true],
      ['facts_connect4', 'cgroup', true],
      ['facts_connect6', 'cgroup', true],
      ['facts_sendmsg4', 'cgroup', true],
      ['facts_sendmsg6', 'cgroup', true],
      ['facts_sockops', 'sockops', true],
    ]);
    // zoom-in programs: loaded, attached only while a zoom needs them (zoom.livetest.ts)
    const zoom = st.programs.filter((p) => p.name.startsWith('zoom_'));
    expect(zoom.map((p) => p.name).sort()).toEqual([...ALL_ZOOM_PROGRAMS].sort());
    for (const p of zoom) expect([p.attached, p.error]).toEqual([false, 'loaded, attached on demand']);
  });

  it('seeds processes that ran before start, with the exec id their exit later carries', async () => {
    const pid = preexisting.pid!;
    const seeded = execs().find((e) => e.pid === pid);
    expect(seeded, 'seeded exec of the pre-existing sleep').toBeDefined();
    const v = execValue(seeded);
    expect(v.seeded).toBe(true);
    expect(v.argv).toEqual(['sleep', '30']);
    expect(v.binary).toBe(realpathSync('/usr/bin/sleep'));
    expect(v.cwd).toBe(tmp);
    expect(v.ppid).toBe(process.pid);
    expect(v.comm).toBe('sleep');
    expect(BigInt(v.startNs)).toBeLessThan(BigInt(seeded!.tsNs));
    // The first seeded events come before any live event.
    const firstLive = events.findIndex((e) => e.body?.$case !== 'exec' || !execValue(e).seeded);
    const lastSeeded = events.findLastIndex((e) => e.body?.$case === 'exec' && execValue(e).seeded);
    if (firstLive >= 0) expect(lastSeeded).toBeLessThan(firstLive);
    // The test runner itself is seeded too, and is the parent image of the sleep.
    const self = execs().find((e) => e.pid === process.pid);
    expect(self && execValue(self).seeded).toBe(true);
    expect(v.parentExecId).toBe(self!.execId);

    preexisting.kill('SIGTERM');
    const exit = await waitFor('exit of the seeded sleep', () => exitOf(pid));
    expect(exit.execId).toBe(seeded!.execId);
    expect(exitValue(exit)).toEqual({ exitCode: 0, signal: 15 });
  });

  it("links sh -c 'sh -c \"exec sleep 1\"' as A -> B -> C with argv, binaries and cwd", async () => {
    const child = spawn('sh', ['-c', 'sh -c "exec sleep 1"'], { cwd: tmp, stdio: 'ignore' });
    const { code } = await exited(child);
    expect(code).toBe(0);
    const outer = child.pid!;

    const execA = await waitFor('exec A', () => execs().find((e) => e.pid === outer));
    const a = execValue(execA);
    expect(a.argv).toEqual(['sh', '-c', 'sh -c "exec sleep 1"']);
    expect(a.binary).toBe(realpathSync('/bin/sh'));
    expect(a.cwd).toBe(tmp);
    expect(a.ppid).toBe(process.pid);
    expect(a.seeded).toBe(false);

    // node forked the outer sh: the fork carries node's image, which is A's parent.
    const forkOuter = events.find((e) => e.body?.$case === 'fork' && e.body.value.childPid === outer);
    expect(forkOuter?.pid).toBe(process.pid);
    expect(a.parentExecId).toBe(forkOuter!.execId);

    // A forked a child that inherits A's exec id ...
    const forkInner = await waitFor('fork by A', () =>
      events.find((e) => e.body?.$case === 'fork' && e.pid === outer),
    );
    expect(forkInner.execId).toBe(execA.execId);
    if (forkInner.body?.$case !== 'fork') throw new Error('fork expected');
    const inner = forkInner.body.value.childPid;
    expect(forkInner.body.value.parentPid).toBe(outer);

    // ... and execs B (parent A), which execs C (parent B) in the same process.
    const innerExecs = execs().filter((e) => e.pid === inner);
    expect(innerExecs).toHaveLength(2);
    const [execB, execC] = innerExecs as [Event, Event];
    const b = execValue(execB);
    const c = execValue(execC);
    expect(b.argv).toEqual(['sh', '-c', 'exec sleep 1']);
    expect(b.binary).toBe(realpathSync('/bin/sh'));
    expect(b.parentExecId).toBe(execA.execId);
    expect(c.argv).toEqual(['sleep', '1']);
    expect(c.binary).toBe(realpathSync('/usr/bin/sleep'));
    expect(c.cwd).toBe(tmp);
    expect(c.comm).toBe('sleep');
    expect(c.parentExecId).toBe(execB.execId);
    expect(c.ppid).toBe(outer);
    expect(new Set([execA.execId, execB.execId, execC.execId]).size).toBe(3);

    // Exec ids: node:boot:startBoottimeNs:tgid:selfExecId; B and C share start time and tgid.
    const boot = readBootId().boot;
    const parts = (id: string) => id.split(':');
    expect(parts(execC.execId).slice(0, 2)).toEqual([NODE, boot]);
    expect(parts(execC.execId)[3]).toBe(String(inner));
    expect(parts(execC.execId)[2]).toBe(parts(execB.execId)[2]);
    expect(BigInt(parts(execC.execId)[4]!)).toBe(BigInt(parts(execB.execId)[4]!) + 1n);

    // Exits: C (the sleep) and A, both 0, each with its image's exec id.
    const exitC = await waitFor('exit C', () => exitOf(inner));
    const exitA = await waitFor('exit A', () => exitOf(outer));
    expect(exitC.execId).toBe(execC.execId);
    expect(exitA.execId).toBe(execA.execId);
    expect(exitValue(exitC)).toEqual({ exitCode: 0, signal: 0 });
    expect(exitValue(exitA)).toEqual({ exitCode: 0, signal: 0 });

    // Complete events: node, ids, wall-clock ns.
    for (const e of [execA, execB, execC, exitA, exitC, forkInner]) {
      expect(e.seq).toBe('0');
      expect(e.node).toBe(NODE);
      expect(e.tid).toBeGreaterThan(0);
      const skew = BigInt(e.tsNs) - BigInt(Date.now()) * 1_000_000n;
      expect(skew < 10_000_000_000n && skew > -10_000_000_000n).toBe(true);
    }
  });

  it('reports exit code 3 and death by SIGKILL', async () => {
    const three = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    expect((await exited(three)).code).toBe(3);
    const killed = spawn('sleep', ['30'], { stdio: 'ignore' });
    await waitFor('exec of sleep 30', () => execs().find((e) => e.pid === killed.pid));
    killed.kill('SIGKILL');
    expect((await exited(killed)).signal).toBe('SIGKILL');

    expect(exitValue(await waitFor('exit 3', () => exitOf(three.pid!)))).toEqual({ exitCode: 3, signal: 0 });
    expect(exitValue(await waitFor('SIGKILL exit', () => exitOf(killed.pid!)))).toEqual({ exitCode: 0, signal: 9 });
  });

  const python = ['/usr/bin/python3', '/usr/bin/python3.11'].find((p) => existsSync(p));
  it.skipIf(!python)('reports the group exit status when a non-leader thread ends the process', async () => {
    // A second thread calls _exit(5) (exit_group) while the leader waits in join().
    const script = 'import os, threading\nt = threading.Thread(target=lambda: os._exit(5))\nt.start()\nt.join()';
    const child = spawn(python!, ['-c', script], { stdio: 'ignore' });
    expect((await exited(child)).code).toBe(5);
    const exit = await waitFor('exit of the python child', () => exitOf(child.pid!));
    expect(exitValue(exit)).toEqual({ exitCode: 5, signal: 0 });
    expect(events.filter((e) => e.body?.$case === 'exit' && e.pid === child.pid)).toHaveLength(1);
  });

  it.skipIf(!python)('keeps the parent link when a non-leader thread execs (de_thread)', async () => {
    // The exec'ing thread becomes the leader and the old leader (and its state) goes away.
    const script = "import os, threading\nt = threading.Thread(target=lambda: os.execv('/bin/sh', ['sh', '-c', 'exit 0']))\nt.start()\nt.join()";
    const child = spawn(python!, ['-c', script], { stdio: 'ignore' });
    expect((await exited(child)).code).toBe(0);
    const pid = child.pid!;
    await waitFor('exit', () => exitOf(pid));
    const [py, sh] = execs().filter((e) => e.pid === pid) as [Event, Event];
    expect(execValue(py).binary).toBe(realpathSync(python!));
    expect(execValue(sh).argv).toEqual(['sh', '-c', 'exit 0']);
    expect(execValue(sh).parentExecId).toBe(py.execId);
    expect(sh.tid).toBe(pid);
    expect(exitOf(pid)!.execId).toBe(sh.execId);
  });

  it('threads produce neither fork nor exit events', async () => {
    // node starts a dozen threads (libuv pool, V8 workers) plus a worker_threads Worker.
    const script =
      "const { Worker } = require('worker_threads');" +
      "const w = new Worker('setTimeout(() => {}, 100)', { eval: true });" +
      'w.on("exit", () => process.exit(0));';
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    expect((await exited(child)).code).toBe(0);
    const pid = child.pid!;
    await waitFor('exit of the threaded child', () => exitOf(pid));
    const threadCount = 1 + events.filter((e) => e.pid === pid).length; // sanity: something seen
    expect(threadCount).toBeGreaterThan(1);
    expect(events.filter((e) => e.body?.$case === 'fork' && e.pid === pid)).toHaveLength(0);
    expect(events.filter((e) => e.body?.$case === 'exit' && e.pid === pid)).toHaveLength(1);
    expect(events.filter((e) => e.body?.$case === 'exec' && e.pid === pid)).toHaveLength(1);
  });

  it('resolves the cgroup path and the container identity of an exec', async (ctx) => {
    const root = new CgroupResolver().root;
    if (!root) return ctx.skip('no cgroup2 mount');
    // A throwaway cgroup named like a docker container's scope, below a per-test parent.
    const containerId = 'c0ffee'.padEnd(64, '0');
    const parent = path.join(root, `soc-livetest-${process.pid}`);
    const dir = path.join(parent, `docker-${containerId}.scope`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      return ctx.skip(`cannot create a cgroup under ${root}: ${(e as Error).message}`);
    }
    try {
      // After this, the resolver may walk again on a miss, whenever it last walked.
      await new Promise((r) => setTimeout(r, DEFAULT_MIN_RESCAN_MS + 50));
      const child = spawn('sh', ['-c', `echo $$ > ${dir}/cgroup.procs && exec /bin/true`], { stdio: 'ignore' });
      expect((await exited(child)).code).toBe(0);
      const ev = await waitFor('exec of true', () =>
        execs().find((e) => e.pid === child.pid && execValue(e).binary.endsWith('/true')),
      );
      const v = execValue(ev);
      expect(v.cgroupId).toBe(statSync(dir, { bigint: true }).ino.toString());
      expect(v.cgroupPath).toBe(`/soc-livetest-${process.pid}/docker-${containerId}.scope`);
      expect(v.container).toEqual({ runtime: 'docker', containerId, podUid: '', podName: '', namespace: '' });
    } finally {
      await waitFor('cgroup empty', () => !readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() || undefined);
      rmdirSync(dir); // cgroup directories are removed with rmdir, their control files go with them
      rmdirSync(parent);
    }
  });

  it('counts drops (none under light load)', () => {
    const st = source.status();
    expect(st.droppedKernel).toBe('0');
    expect(st.droppedUser).toBe('0');
    expect(BigInt(st.eventsTotal)).toBe(BigInt(events.length));
    expect(source.takeDroppedDelta()).toEqual({ kernel: 0n, user: 0n });
  });

  it('stops: programs detached, no events after stop resolves', async () => {
    await source.stop();
    const n = events.length;
    const child = spawn('true', { stdio: 'ignore' });
    await exited(child);
    await new Promise((r) => setTimeout(r, 100));
    expect(events.length).toBe(n);
    expect(source.status().programs.every((p) => !p.attached)).toBe(true);
  });
});

describe('probeKernel', () => {
  it('says ok or gives a reason', () => {
    const p = probeKernel();
    if (!p.ok) expect(p.reason.length).toBeGreaterThan(10);
    else expect(p).toEqual({ ok: true });
  });
});

describe('seeding helpers (/proc parsing)', () => {
  it('parses state and starttime even when comm holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3)); // fields 3.. as numbers
    fields[0] = 'S';
    fields[19] = '123456789'; // field 22: starttime
    expect(parseProcStat(`42 (we)ird) name) ${fields.join(' ')}`)).toEqual({ state: 'S', ppid: 4, startTicks: 123456789n });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('splits cmdline like the live path and cuts it at the same bound', () => {
    expect(parseCmdline(Buffer.from('sleep\u000030\u0000'))).toEqual({ argv: ['sleep', '30'], truncated: false });
    expect(parseCmdline(Buffer.alloc(0))).toEqual({ argv: [], truncated: false });
    const long = parseCmdline(Buffer.from(`x\u0000${'a'.repeat(5000)}\u0000`));
    expect(long.truncated).toBe(true);
    expect(long.argv[0]).toBe('x');
    expect(Buffer.byteLength(long.argv.join('\u0000')) + 1).toBeLessThanOrEqual(4096);
  });
});
