import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { steadyLoop, TestCgroups } from '../sensor/src/testing/workloads';
import { LIVE_SENSOR_ENV } from './support/run';

const SYSCALL_LOOP = path.resolve('sensor/build/syscall_loop');

// The analyst's view of the scenario, live: a workload in a cgroup of its own learns its
// baseline (the cockpit runs with 3 s / 2 s learning windows here), then does one thing it never
// did — io_uring_setup. The inbox shows the indicator, unprompted, with the sentence that says
// why, linking to the process; the baseline page shows the status, the entries and the indicator.
// At the size of a laptop screen.
test.describe('detection (live sensor)', () => {
  test.skip(process.env[LIVE_SENSOR_ENV] !== 'ok', process.env[LIVE_SENSOR_ENV] ?? 'global setup did not run');
  test.use({ viewport: { width: 1366, height: 768 } });

  test('a learned workload steps outside its baseline: the inbox says why and links to the process', async ({ page }) => {
    // The pages must work under the nonce CSP like the others (progress bars use style attributes).
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to (execute|load|apply)/i.test(message.text())) violations.push(message.text());
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'soc-e2e-detect-'));
    const mode = path.join(dir, 'mode');
    writeFileSync(mode, 'steady\n');
    const cgroups = new TestCgroups('soc-e2e');
    cgroups.create(['app']);
    const workload = cgroups.workload('app');
    // The sensor resolves cgroups it does not know at most every 250 ms: let it see this one.
    await new Promise((r) => setTimeout(r, 400));
    const [command, ...args] = steadyLoop({ procsFile: cgroups.procs('app'), syscallLoop: SYSCALL_LOOP, modeFile: mode, iterations: 500_000 });
    const loop = spawn(command!, args, { stdio: 'ignore', detached: true });
    try {
      // The baseline page: learning, then completed, with the entries it learned.
      await page.goto(`/baselines/${workload}`);
      await expect(async () => {
        await page.reload();
        await expect(page.getByTestId('baseline-status')).toHaveText('completed', { timeout: 1_000 });
      }).toPass({ timeout: 60_000 });
      const profile = page.locator(`section[data-executable="${SYSCALL_LOOP}"]`);
      await expect(profile.getByRole('list', { name: 'syscall entries' }).getByText('getppid', { exact: true })).toBeVisible();
      await expect(page.locator('section[data-executable="*"]').getByRole('list', { name: 'exec entries' }).getByText(SYSCALL_LOOP, { exact: true })).toBeVisible();
      await expect(profile.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');

      // The inbox, open before anything happens: the indicator arrives by itself (live updates).
      await page.goto(`/indicators?range=1h&workload=${encodeURIComponent(workload)}`);
      await expect(page.getByText('No indicator')).toBeVisible();
      writeFileSync(mode, 'evil-1\n');
      const row = page.locator('tbody.indicator-row').filter({ hasText: 'io_uring_setup' });
      await expect(row).toHaveCount(1, { timeout: 30_000 });
      await expect(row.locator('.badge')).toHaveText('high');
      const why = row.getByTestId('indicator-why');
      await expect(why).toBeVisible();
      await expect(why).toContainText('Rule "io_uring in a workload that never used it"');
      await expect(why).toContainText(`First syscall io_uring_setup by syscall_loop in ${workload}: its profile (v2, learned`);
      await expect(why).toContainText('completed after 2 s with nothing new');
      if (process.env.SOC_E2E_SHOTS) await page.screenshot({ path: path.join(process.env.SOC_E2E_SHOTS, 'inbox.png') });
      // Readable on a 1366 px screen: the table fits without scrolling sideways.
      const scroll = page.locator('.table-scroll').first();
      expect(await scroll.evaluate((e) => e.scrollWidth <= e.clientWidth + 1)).toBe(true);

      // The indicator's page: the learning window and the nearest entries, as data.
      await row.getByRole('link', { name: /\d{4}-\d\d-\d\d/ }).click();
      await expect(page.getByRole('heading', { level: 1 })).toContainText('io_uring_setup');
      await expect(page.getByRole('definition').filter({ hasText: 'at least 3 s, then 2 s with nothing new' })).toBeVisible();
      if (process.env.SOC_E2E_SHOTS) await page.screenshot({ path: path.join(process.env.SOC_E2E_SHOTS, 'indicator.png'), fullPage: true });
      await page.goBack();

      // The process the indicator names: the image that made the call.
      await page.locator('tbody.indicator-row').filter({ hasText: 'io_uring_setup' }).getByTestId('indicator-process').click();
      await expect(page).toHaveURL(/\/processes\//);
      await expect(page.getByRole('list', { name: 'argv' }).getByRole('listitem')).toHaveText([SYSCALL_LOOP, '--syscall', '425', '--iterations', '1']);
      await expect(page.getByRole('link', { name: workload })).toBeVisible();

      // Back on the baseline: the indicator it produced.
      await page.getByRole('link', { name: workload }).click();
      await expect(page.getByRole('table', { name: 'Indicators of this workload' }).getByRole('cell', { name: 'io_uring_setup', exact: true })).toBeVisible();
      if (process.env.SOC_E2E_SHOTS) await page.screenshot({ path: path.join(process.env.SOC_E2E_SHOTS, 'baseline.png'), fullPage: true });
      expect(violations).toEqual([]);
    } finally {
      if (loop.pid) {
        try {
          process.kill(-loop.pid, 'SIGKILL');
        } catch {
          // ended already
        }
      }
      cgroups.remove();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
