/**
 * The HTTP services and load generator of the always-on overhead benches, driven by wrk over
 * loopback, and the per-process figures read from /proc without touching either process.
 *
 *   hello   node:http answering "ok": the most syscall-dense service node can be (two syscalls
 *           and ~10 µs of CPU per request), the worst case for a per-syscall hook;
 *   victim  the reference attack's victim (e2e/scenario/victim/server.mjs, release 1.0): an
 *           "inventory" JSON API that reads its data file on each request (open, fstat, read,
 *           close: file facts' path checks run too), GET /api/items.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export type HttpService = 'hello' | 'victim';
export const HTTP_SERVICES: readonly HttpService[] = ['hello', 'victim'];

export interface RunningService {
  process: ChildProcess;
  /** what wrk requests */
  url: string;
}

/** A loopback port nobody listens on (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The victim's inventory: 20 items (~1.3 KB of JSON per response). */
function victimData(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'soc-bench-victim-'));
  const file = path.join(dir, 'inventory.json');
  const items = Array.from({ length: 20 }, (_, i) => ({ id: `sku-${i + 1}`, name: `item number ${i + 1}`, stock: (i * 7) % 23 }));
  writeFileSync(file, JSON.stringify(items));
  return file;
}

/**
 * Starts the service (on `cpu` when given: taskset execs it, so the pid stays the server's) and
 * resolves once it accepts connections.
 */
export async function startHttpServer(port: number, cpu?: number, service: HttpService = 'hello'): Promise<RunningService> {
  const argv =
    service === 'hello'
      ? [process.execPath, '-e', `require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`]
      : [process.execPath, path.resolve(import.meta.dirname, '../e2e/scenario/victim/server.mjs')];
  const env = service === 'victim' ? { ...process.env, VICTIM_PORT: String(port), VICTIM_DATA: victimData(), VICTIM_RELEASE: '1.0' } : process.env;
  const opts = { stdio: 'ignore' as const, env };
  const server = cpu !== undefined ? spawn('taskset', ['-c', String(cpu), ...argv], opts) : spawn(argv[0]!, argv.slice(1), opts);
  const url = `http://127.0.0.1:${port}${service === 'victim' ? '/api/items' : '/'}`;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) =>
      net
        .connect(port, '127.0.0.1')
        .once('connect', function (this: net.Socket) {
          this.destroy();
          r(true);
        })
        .once('error', () => r(false)),
    );
    if (ok) return { process: server, url };
    await new Promise((r) => setTimeout(r, 50));
  }
  server.kill('SIGKILL');
  throw new Error(`HTTP server on port ${port} did not come up`);
}

/**
 * The process's threads summed from /proc/PID/task/TID/schedstat: CPU time run (ns) and times
 * scheduled in (its wake-ups), in one read of each file.
 */
export function schedStat(pid: number): { cpuNs: number; runs: number } {
  let cpuNs = 0;
  let runs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
    cpuNs += Number(f[0]);
    runs += Number(f[2]);
  }
  return { cpuNs, runs };
}

/** CPU time (ns) the process's threads have run. */
export const cpuNs = (pid: number): number => schedStat(pid).cpuNs;

/**
 * Bytes the process has written through write(2)/writev(2) (/proc/PID/io wchar). The server's
 * responses are all the same size, so its rate is the request rate, read without asking the
 * server anything.
 */
export function writtenBytes(pid: number): number {
  const m = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`no wchar in /proc/${pid}/io`);
  return Number(m[1]);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
