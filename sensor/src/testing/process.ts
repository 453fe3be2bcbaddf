import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** Test helpers for sensor processes: the real CLI (sensor/src/main.ts) or the fixture sensor. */

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface SensorProcess {
  child: ChildProcess;
  port: number;
  epoch: string;
  exited: Promise<number | null>;
  /** Every line of the watched output so far (logs of the CLI, JSON lines of the fixture). */
  lines: string[];
}

export interface StartSensorProcessOptions {
  /** 'cli': sensor/src/main.ts (waits for its "sensor ready" log line on stderr);
   *  'fixture': sensor/src/testing/fixture-sensor.ts (waits for {"ready":true} on stdout). */
  kind: 'cli' | 'fixture';
  args: string[];
  env: Record<string, string>;
  /** 'node' runs `node --import tsx` (signals reach the sensor itself, SIGKILL included);
   *  'tsx' runs the tsx binary, as `npm run sensor` does (it forwards SIGTERM/SIGINT). */
  runner?: 'node' | 'tsx';
  readyTimeoutMs?: number;
  /** Print the watched lines as they come (set TEST_VERBOSE=1). */
  echo?: boolean;
}

/** Starts a sensor process and resolves once it serves (with its port and epoch). */
export function startSensorProcess(options: StartSensorProcessOptions): Promise<SensorProcess> {
  const script = path.join(REPO_ROOT, options.kind === 'cli' ? 'sensor/src/main.ts' : 'sensor/src/testing/fixture-sensor.ts');
  const [command, args] =
    options.runner === 'tsx'
      ? [path.join(REPO_ROOT, 'node_modules/.bin/tsx'), [script, ...options.args]]
      : [process.execPath, ['--import', 'tsx', script, ...options.args]];
  const watched = options.kind === 'cli' ? 'stderr' : 'stdout';
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', watched === 'stdout' ? 'pipe' : 'inherit', watched === 'stderr' ? 'pipe' : 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sensor process not ready:\n${lines.join('\n')}`)), options.readyTimeoutMs ?? 60_000);
    void exited.then((code) => reject(new Error(`sensor process exited (${code}) before ready:\n${lines.join('\n')}`)));
    createInterface({ input: child[watched]! }).on('line', (line) => {
      lines.push(line);
      if (options.echo) console.log(line);
      let msg: { ready?: boolean; msg?: string; port?: number; epoch?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.ready || msg.msg === 'sensor ready') {
        clearTimeout(timer);
        resolve({ child, port: msg.port!, epoch: msg.epoch!, exited, lines });
      }
    });
  });
}

/** A TCP port that was free a moment ago (for a process that must listen on a known port). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, 'localhost', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until the condition holds; the error names what was awaited (and `context()`, if given). */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; context?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.context ? `: ${options.context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
