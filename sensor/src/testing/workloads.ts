/**
 * Test workloads in cgroups of their own, for the live detection tests, the e2e spec and the
 * latency benchmark: each cgroup is a workload the sensor keys `cgroup/<path>`, and each runs a
 * steady loop of `syscall_loop` that a test can tell — through a file — to do something new once
 * (call a syscall by number, e.g. 425 io_uring_setup), without anything else changing: the same
 * shell starts the same executable with the same behaviour, plus that one syscall.
 *
 * The cgroups must exist before the sensor starts (its cgroup resolver maps ids to paths when it
 * first needs them, and rescans at most every 250 ms afterwards), or at least 300 ms before a
 * process runs in them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findCgroup2Mount } from '../identity/cgroup';

/** The cgroup2 mount point of this host, or null. */
export function cgroup2Root(): string | null {
  try {
    return findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? null;
  } catch {
    return null;
  }
}

export class TestCgroups {
  readonly root: string;
  /** e.g. /soc-detect-1a2b (below the cgroup2 mount) */
  readonly base: string;

  constructor(prefix: string) {
    const root = cgroup2Root();
    if (!root) throw new Error('no cgroup2 mount');
    this.root = root;
    this.base = `/${prefix}-${process.pid}-${Date.now().toString(36)}`;
  }

  /** Creates the cgroups (below the base). */
  create(names: readonly string[]): void {
    for (const name of names) mkdirSync(path.join(this.root, this.base, name), { recursive: true });
  }

  /** The cgroup v2 path of one of them (what the sensor reports, what the workload key is made of). */
  path(name: string): string {
    return `${this.base}/${name}`;
  }

  /** Its workload key. */
  workload(name: string): string {
    return `cgroup${this.path(name)}`;
  }

  /** The cgroup.procs file a process writes its pid to, to move itself in. */
  procs(name: string): string {
    return path.join(this.root, this.base, name, 'cgroup.procs');
  }

  /** Kills everything left in them and removes them. */
  remove(): void {
    const dir = path.join(this.root, this.base);
    if (!existsSync(dir)) return;
    for (const child of listDirs(dir)) {
      const kill = path.join(dir, child, 'cgroup.kill');
      try {
        if (existsSync(kill)) writeFileSync(kill, '1');
      } catch {
        // nothing to kill
      }
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        for (const child of listDirs(dir)) rmdirSync(path.join(dir, child));
        rmdirSync(dir);
        return;
      } catch {
        // processes still exiting
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

function listDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}

/**
 * The argv of a steady workload: a shell that moves itself into `procsFile`'s cgroup, then (as a
 * new image, inside it) runs `syscall_loop --iterations N` forever. When `modeFile` holds a new
 * word other than "steady", it runs `syscall_loop --syscall <nr> --iterations 1` once: <nr> is the
 * word when it is a number, else `syscall` (default 425, io_uring_setup).
 */
export function steadyLoop(options: { procsFile: string; syscallLoop: string; iterations?: number; modeFile?: string; syscall?: number }): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const loop = `${q(options.syscallLoop)} --iterations ${options.iterations ?? 1_000_000} >/dev/null`;
  const trigger = options.modeFile
    ? `read -r mode < ${q(options.modeFile)}; if [ "$mode" != "$last" ] && [ "$mode" != steady ]; then last=$mode; ` +
      `case "$mode" in ''|*[!0-9]*) nr=${options.syscall ?? 425};; *) nr=$mode;; esac; ` +
      `${q(options.syscallLoop)} --syscall "$nr" --iterations 1 >/dev/null; fi; `
    : '';
  const body = `last=; while :; do ${loop}; ${trigger}done`;
  return ['sh', '-c', `echo $$ > ${q(options.procsFile)} && exec sh -c ${q(body)}`];
}
