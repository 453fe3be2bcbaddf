import fs from 'node:fs';
import path from 'node:path';
import { probeKernel } from '../sensor/src/kernel/source';
import { runTsx, startTsx, stop, waitForPort, type Started } from './support/processes';
import { ACCOUNTS_ENV, e2eRun, EXFIL_RECORDING, EXFIL_SENSOR_ENV, LIVE_SENSOR_ENV, RECORDING, REPLAY_SENSOR_ENV, storageStatePath, type E2eRun } from './support/run';

/**
 * Accounts for the specs, made the way an operator makes them: with the CLI, which reaches the
 * running cockpit through its admin socket (the cockpit holds the embedded data directory). Each
 * is signed in through the login API, and its session cookie saved as a Playwright storage state.
 */
async function createAccounts(run: E2eRun): Promise<void> {
  process.env.CHDB_PATH = run.chdbPath;
  const base = `http://localhost:${run.cockpitPort}`;
  const accounts: Record<string, { email: string; password: string }> = {};
  for (const role of ['viewer', 'admin'] as const) {
    const email = `${role}@e2e.test`;
    const out = await runTsx('server/auth/cli.ts', ['users', 'create', '--email', email, '--role', role, '--json']);
    const { password } = JSON.parse(out.trim().split('\n').at(-1)!) as { password: string };
    accounts[role] = { email, password };
    const response = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ email, password }),
    });
    if (!response.ok) throw new Error(`cannot sign in as ${email}: HTTP ${response.status} ${await response.text()}`);
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-soc_session='));
    if (!cookie) throw new Error(`no session cookie for ${email}`);
    const value = /^__Host-soc_session=([^;]+)/.exec(cookie)![1]!;
    const state = {
      cookies: [{ name: '__Host-soc_session', value, domain: 'localhost', path: '/', expires: -1, httpOnly: true, secure: true, sameSite: 'Lax' }],
      origins: [],
    };
    fs.writeFileSync(storageStatePath(run, role), JSON.stringify(state), { mode: 0o600 });
  }
  process.env[ACCOUNTS_ENV] = JSON.stringify(accounts);
}

/**
 * Makes the certificates and starts the three sensors the cockpit (already started by Playwright's
 * webServer, see playwright.config.ts) is configured to collect from:
 *   local  — the live eBPF sensor of this machine (needs root/CAP_BPF and a built sensor);
 *   replay — a recording made by the real sensor, replayed with its timestamps shifted to now;
 *   exfil  — the reference attack's recording (e2e/scenario), replayed the same way: the cockpit
 *            learns the victim's baseline from it, raises the io_uring indicator, and adopts the
 *            recorded zoom's evidence into its own investigation (e2e/scenario.spec.ts).
 * A sensor that cannot run here is not an error of the run: its specs skip, with this reason.
 * Returns the teardown (Playwright calls it after the last spec).
 */
/**
 * Removes the run's directory. Playwright stops the cockpit (webServer) only after this teardown,
 * so its storage may still be written to (the detector, merges) and refuse to go: then it is
 * removed again when the runner exits, after the cockpit stopped. Cleanup never fails the run;
 * what could not be removed is named.
 */
function removeRunDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch {
    process.once('exit', () => {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (err) {
        console.warn(`e2e: could not remove ${dir}: ${(err as Error).message}`);
      }
    });
  }
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const run = e2eRun();
  const logs = path.join(run.dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  await runTsx('sensor/src/certs-cli.ts', ['--out', run.certsDir]);
  const tls = ['--tls-ca', `${run.certsDir}/ca.crt`, '--tls-cert', `${run.certsDir}/sensor.crt`, '--tls-key', `${run.certsDir}/sensor.key`];

  const started: Started[] = [];
  const teardown = async () => {
    await Promise.all(started.map(stop));
    // SOC_E2E_KEEP=1 keeps the sensor logs and the cockpit's storage for a post-mortem.
    if (process.env.SOC_E2E_KEEP === '1') console.log(`e2e: sensor logs and cockpit storage kept in ${run.dir}`);
    else removeRunDir(run.dir);
  };

  try {
    await createAccounts(run);
    const probe = probeKernel();
    if (probe.ok) {
      const live = startTsx('live sensor', 'sensor/src/main.ts', ['--listen', `localhost:${run.livePort}`, '--name', 'local', ...tls], path.join(logs, 'live-sensor.log'));
      started.push(live);
      await waitForPort(live, run.livePort);
      process.env[LIVE_SENSOR_ENV] = 'ok';
    } else {
      process.env[LIVE_SENSOR_ENV] = `live eBPF sensor unavailable: ${probe.reason}`;
    }

    const replays = [
      { name: 'replay', recording: RECORDING, port: run.replayPort, env: REPLAY_SENSOR_ENV, regenerate: "the live sensor's --record" },
      { name: 'exfil', recording: EXFIL_RECORDING, port: run.exfilPort, env: EXFIL_SENSOR_ENV, regenerate: 'npm run scenario -- --record FILE' },
    ];
    for (const r of replays) {
      if (!fs.existsSync(r.recording)) {
        process.env[r.env] = `recording ${r.recording} is missing (record it with ${r.regenerate})`;
        continue;
      }
      const replay = startTsx(
        `${r.name} sensor`,
        'sensor/src/main.ts',
        ['--listen', `localhost:${r.port}`, '--name', r.name, '--replay', r.recording, '--shift-to-now', ...tls],
        path.join(logs, `${r.name}-sensor.log`),
      );
      started.push(replay);
      await waitForPort(replay, r.port);
      process.env[r.env] = 'ok';
    }
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
