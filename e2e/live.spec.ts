import { spawn } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { expectSleepChainPages, findSleep, sleepArgv } from './support/chain';
import { LIVE_SENSOR_ENV } from './support/run';

// The real thing: a process chain started now on this machine, seen by the live eBPF sensor,
// collected over mTLS, stored, searched and opened in the browser.
test.describe('live sensor', () => {
  test.skip(process.env[LIVE_SENSOR_ENV] !== 'ok', process.env[LIVE_SENSOR_ENV] ?? 'global setup did not run');

  test('a shell chain run now can be found, opened, and its ancestry and tree read', async ({ page }) => {
    // Distinctive per run, still a valid duration for sleep: 2.7xxxxx seconds.
    const arg = `2.7${String(Date.now() % 100_000).padStart(5, '0')}`;
    const chain = spawn('sh', ['-c', `sh -c "exec sleep ${arg}"`], { stdio: 'ignore' });
    const exitCode = await new Promise<number | null>((resolve) => chain.on('exit', resolve));
    expect(exitCode).toBe(0);

    const row = await findSleep(page, { arg }, '15m');
    await expect(row.locator('td').nth(4)).toHaveText(sleepArgv(arg));
    await expect(row.locator('td').nth(7)).toHaveText('exit 0');
    await row.getByRole('link').click();
    await expectSleepChainPages(page, arg);
  });
});
