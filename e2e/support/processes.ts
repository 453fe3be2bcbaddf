import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Child processes of the e2e run (sensors, the certificate tool), with their output kept for errors. */
export interface Started {
  name: string;
  child: ChildProcess;
  output: () => string;
}

const TSX = path.join('node_modules', '.bin', 'tsx');

/** Starts `tsx <script> ...args`, logging its output to `logFile` and keeping the tail in memory. */
export function startTsx(name: string, script: string, args: string[], logFile: string): Started {
  const log = fs.createWriteStream(logFile);
  let tail = '';
  const child = spawn(TSX, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', () => log.end());
  return { name, child, output: () => tail };
}

/** Runs `tsx <script> ...args` to completion; rejects with its output when it fails. */
export async function runTsx(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawn(TSX, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}:\n${output}`);
  return output;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: 'localhost', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until `started` listens on `port`; rejects with its output if it exits or takes too long. */
export async function waitForPort(started: Started, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null || started.child.signalCode !== null) {
      throw new Error(`${started.name} exited (${started.child.exitCode ?? started.child.signalCode}) before listening:\n${started.output()}`);
    }
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${started.name} did not listen on port ${port} within ${timeoutMs} ms:\n${started.output()}`);
}

/** SIGTERM (the sensor detaches its programs and exits), SIGKILL if it has not after 10 s. */
export async function stop(started: Started): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
