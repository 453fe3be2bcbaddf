import { defineConfig } from '@playwright/test';
import { SERVICE_MAP_FILE } from './e2e/scenario/harness';
import { e2eRun, storageStatePath } from './e2e/support/run';

/**
 * End-to-end: a production build of the cockpit (`next start`) on its own port and storage, fed by
 * three real sensors over mTLS — a live eBPF sensor and replays of two recordings (a process chain,
 * the reference attack) — that the global setup starts. Debian's chromium, never a downloaded browser.
 *
 * Order matters and is not the obvious one: Playwright starts the webServer BEFORE running the
 * global setup. The cockpit therefore boots before the certificates and sensors exist; its
 * collector re-reads the certificates at every dial and retries (backoff capped at 2 s here), so it
 * connects as soon as the setup has started the sensors.
 *
 * Every spec runs signed in as a viewer (the storage state the global setup saves after creating
 * the accounts with the CLI) unless it chooses otherwise; e2e/auth.spec.ts covers signing in.
 *
 * SOC_E2E_SKIP_BUILD=1 reuses an existing `.next` build instead of building first.
 */
const run = e2eRun();
const cert = (name: string) => `${run.certsDir}/${name}`;
const build = process.env.SOC_E2E_SKIP_BUILD === '1' ? '' : 'npx next build && ';

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.spec.ts',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${run.cockpitPort}`,
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    storageState: storageStatePath(run, 'viewer'),
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `${build}npx next start --port ${run.cockpitPort}`,
    url: `http://localhost:${run.cockpitPort}/`,
    timeout: 240_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      CHDB_PATH: run.chdbPath,
      SENSORS: `local=localhost:${run.livePort},replay=localhost:${run.replayPort},exfil=localhost:${run.exfilPort}`,
      // Names the reference attack's C2 address like an internal service (e2e/scenario.spec.ts).
      SERVICE_MAP_FILE: SERVICE_MAP_FILE,
      COCKPIT_TLS_CA: cert('ca.crt'),
      COCKPIT_TLS_CERT: cert('cockpit.crt'),
      COCKPIT_TLS_KEY: cert('cockpit.key'),
      // Fast enough for tests: reconnect within 2 s, store each sensor's Status every second.
      COLLECTOR_BACKOFF_MAX_MS: '2000',
      COLLECTOR_STATUS_INTERVAL_MS: '1000',
      // Learning windows short enough for a test (e2e/detection.spec.ts); production: 10 min / 5 min / 24 h.
      BASELINE_MIN_LEARNING: '3s',
      BASELINE_QUIET: '2s',
      BASELINE_MAX_LEARNING: '60s',
    },
  },
});
