/**
 * Starts processes that are *not* descendants of the current process's later activity: a shell
 * started before the sensor runs every command. The sensor marks its own process and every
 * process it forks as its own (own = true), so a test that hosts the sensor needs such a
 * launcher to produce ordinary workload processes.
 *
 * Each command runs as `sh -c 'echo $$ > pidfile; exec "$@"'`: its pid is known before it does
 * anything, and with `hold`, its stdin is a FIFO the test writes to (release()) — programs like
 * uring_probe --wait and syscall_loop --wait start working only then.
 *
 * `orphan`: the shell is not even a descendant of the test process (it is reparented to init):
 * needed when the test process itself is marked own — a cockpit whose collector runs in the test
 * connects to a sensor on this node, and the sensor marks that process and its descendants.
 * Commands then reach the shell through a FIFO.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Launched {
  /** the process's pid (the same through its exec of the command) */
  pid: Promise<number>;
  /** exit status, stdout and stderr once it ended */
  done: Promise<{ code: number; stdout: string; stderr: string }>;
  /** writes a line to the process's stdin (only with `hold`) */
  release(line?: string): Promise<void>;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A number written by `echo` (complete once the newline is there). */
function readNumber(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const m = /^(\d+)\n$/.exec(readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

async function poll<T>(what: string, f: () => T | undefined, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`launcher: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export class Launcher {
  private readonly dir: string;
  private readonly shell: ChildProcess | null;
  private readonly orphanPidFile: string | null = null;
  private readonly send: (line: string) => void;
  private n = 0;

  constructor(options: { orphan?: boolean } = {}) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'soc-launcher-'));
    const loop = 'while IFS= read -r line; do eval "$line"; done';
    if (options.orphan) {
      const fifo = path.join(this.dir, 'commands');
      this.orphanPidFile = path.join(this.dir, 'shell.pid');
      execFileSync('mkfifo', [fifo]);
      // <> opens the FIFO read-write: the loop never sees end-of-file between two commands.
      const inner = `echo $$ > ${shellQuote(this.orphanPidFile)}; ${loop}`;
      execFileSync('sh', ['-c', `sh -c ${shellQuote(inner)} <>${shellQuote(fifo)} >/dev/null & exit 0`], { stdio: ['ignore', 'ignore', 'inherit'] });
      this.shell = null;
      this.send = (line) => appendFileSync(fifo, line);
    } else {
      const shell = spawn('sh', ['-c', loop], { stdio: ['pipe', 'ignore', 'inherit'] });
      this.shell = shell;
      this.send = (line) => shell.stdin!.write(line);
    }
  }

  /** The shell's pid (the parent of everything launched). */
  get pid(): number {
    if (this.shell) return this.shell.pid!;
    for (let i = 0; i < 500 && readNumber(this.orphanPidFile!) === undefined; i++) execFileSync('sleep', ['0.01']);
    return readNumber(this.orphanPidFile!)!;
  }

  run(argv: string[], options: { hold?: boolean; timeoutMs?: number } = {}): Launched {
    const id = ++this.n;
    const f = (ext: string) => path.join(this.dir, `${id}.${ext}`);
    if (options.hold) execFileSync('mkfifo', [f('in')]);
    // <> opens the FIFO read-write: the redirect does not block waiting for a writer.
    const stdin = options.hold ? `<>${shellQuote(f('in'))}` : '</dev/null';
    // Shell builtins only (echo), so the launched process forks nothing before the command.
    const inner = `echo $$ > ${shellQuote(f('pid'))}; exec "$@"`;
    const line =
      `{ sh -c ${shellQuote(inner)} sh ${argv.map(shellQuote).join(' ')} ${stdin} ` +
      `>${shellQuote(f('out'))} 2>${shellQuote(f('err'))}; echo $? > ${shellQuote(f('rc'))}; } &\n`;
    this.send(line);
    const timeoutMs = options.timeoutMs ?? 30_000;
    const pid = poll(`pid of ${argv[0]}`, () => readNumber(f('pid')), timeoutMs);
    const done = poll(`exit of ${argv[0]}`, () => readNumber(f('rc')), timeoutMs).then(
      (code) => ({ code, stdout: readFileSync(f('out'), 'utf8'), stderr: readFileSync(f('err'), 'utf8') }),
    );
    return {
      pid,
      done,
      release: async (l = 'go') => {
        if (!options.hold) throw new Error('release() needs { hold: true }');
        await writeFile(f('in'), `${l}\n`);
      },
    };
  }

  close(): void {
    if (this.shell) {
      this.shell.stdin!.end();
      this.shell.kill('SIGTERM');
    } else {
      this.send('exit\n');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
