import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * One e2e run: a temporary directory (certificates, the cockpit's embedded storage) and four free
 * ports (cockpit, live sensor, and the two replay sensors: the process chain, the reference attack). Playwright loads the config in its main process and
 * again in every worker: the first load decides and publishes the run through the environment,
 * the others read it back, so everyone agrees on the same ports and paths.
 */
export interface E2eRun {
  dir: string;
  certsDir: string;
  chdbPath: string;
  cockpitPort: number;
  livePort: number;
  replayPort: number;
  exfilPort: number;
}

const ENV_KEY = 'SOC_E2E_RUN';

/** Free TCP ports on localhost, synchronously (the config is synchronous): ask the kernel for port 0. */
function freePorts(count: number): number[] {
  const script = `
    const net = require('node:net');
    const servers = Array.from({ length: ${count} }, () => net.createServer());
    Promise.all(servers.map((s) => new Promise((r) => s.listen(0, 'localhost', r)))).then(() => {
      console.log(JSON.stringify(servers.map((s) => s.address().port)));
      servers.forEach((s) => s.close());
    });`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as number[];
}

export function e2eRun(): E2eRun {
  const existing = process.env[ENV_KEY];
  if (existing) return JSON.parse(existing) as E2eRun;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'soc-e2e-'));
  const [cockpitPort, livePort, replayPort, exfilPort] = freePorts(4) as [number, number, number, number];
  const run: E2eRun = {
    dir,
    certsDir: path.join(dir, 'certs'),
    chdbPath: path.join(dir, 'chdb'),
    cockpitPort,
    livePort,
    replayPort,
    exfilPort,
  };
  process.env[ENV_KEY] = JSON.stringify(run);
  return run;
}

/** Browser storage state (the session cookie) of a signed-in user of each role, written by the global setup. */
export function storageStatePath(run: E2eRun, role: 'viewer' | 'admin'): string {
  return path.join(run.dir, `state-${role}.json`);
}

/** Set by the global setup for the specs: the accounts it created, as JSON `{ viewer, admin }` of `{ email, password }`. */
export const ACCOUNTS_ENV = 'SOC_E2E_ACCOUNTS';

/** Set by the global setup for the specs: "ok", or why a sensor is not running. */
export const LIVE_SENSOR_ENV = 'SOC_E2E_LIVE_SENSOR';
export const REPLAY_SENSOR_ENV = 'SOC_E2E_REPLAY_SENSOR';
export const EXFIL_SENSOR_ENV = 'SOC_E2E_EXFIL_SENSOR';

/** The recording the replay sensor serves (made by the real sensor with `--record`). */
export const RECORDING = path.join('e2e', 'fixtures', 'recordings', 'process-chain.socrec');

/**
 * The reference attack (io_uring exfiltration), recorded by the real sensor from the scenario
 * (`npm run scenario -- --record FILE`); the `exfil` sensor replays it.
 */
export const EXFIL_RECORDING = path.join('e2e', 'fixtures', 'recordings', 'io-uring-exfiltration.socrec');
