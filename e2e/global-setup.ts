import fs from 'node:fs';
import path from 'node:path';
import { probeKernel } from '../sensor/src/kernel/source';
import { runTsx, startTsx, stop, waitForPort, type Started } from './support/processes';
import { e2eRun, LIVE_SENSOR_ENV, RECORDING, REPLAY_SENSOR_ENV } from './support/run';

/**
 * Makes the certificates and starts the two sensors the cockpit (already started by Playwright's
 * webServer, see playwright.config.ts) is configured to collect from:
 *   local  — the live eBPF sensor of this machine (needs root/CAP_BPF and a built sensor);
 *   replay — a recording made by the real sensor, replayed with its timestamps shifted to now.
 * A sensor that cannot run here is not an error of the run: its specs skip, with this reason.
 * Returns the teardown (Playwright calls it after the last spec).
 */
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
    else fs.rmSync(run.dir, { recursive: true, force: true });
  };

  try {
    const probe = probeKernel();
    if (probe.ok) {
      const live = startTsx('live sensor', 'sensor/src/main.ts', ['--listen', `localhost:${run.livePort}`, '--name', 'local', ...tls], path.join(logs, 'live-sensor.log'));
      started.push(live);
      await waitForPort(live, run.livePort);
      process.env[LIVE_SENSOR_ENV] = 'ok';
    } else {
      process.env[LIVE_SENSOR_ENV] = `live eBPF sensor unavailable: ${probe.reason}`;
    }

    if (fs.existsSync(RECORDING)) {
      const replay = startTsx(
        'replay sensor',
        'sensor/src/main.ts',
        ['--listen', `localhost:${run.replayPort}`, '--name', 'replay', '--replay', RECORDING, '--shift-to-now', ...tls],
        path.join(logs, 'replay-sensor.log'),
      );
      started.push(replay);
      await waitForPort(replay, run.replayPort);
      process.env[REPLAY_SENSOR_ENV] = 'ok';
    } else {
      process.env[REPLAY_SENSOR_ENV] = `recording ${RECORDING} is missing (record it with the live sensor's --record)`;
    }
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
