import { expect, test } from '@playwright/test';
import { expectSleepChainPages, findSleep, sleepArgv } from './support/chain';
import { recordedSleep } from './support/recording';
import { REPLAY_SENSOR_ENV } from './support/run';

// The same chain from a recording made by the real sensor, replayed with its times shifted to
// now: runs anywhere, eBPF or not, and pins what the cockpit shows for real kernel events.
test.describe('replay sensor', () => {
  test.skip(process.env[REPLAY_SENSOR_ENV] !== 'ok', process.env[REPLAY_SENSOR_ENV] ?? 'global setup did not run');

  test('the recorded shell chain can be found, opened, and its ancestry and tree read', async ({ page }) => {
    const sleep = await recordedSleep();
    const row = await findSleep(page, sleep, '1h');
    await expect(row.locator('td').nth(4)).toHaveText(sleepArgv(sleep.arg));
    await expect(row.locator('td').nth(7)).toHaveText('exit 0');
    await row.getByRole('link').click();
    await expect(page).toHaveURL(`/processes/${encodeURIComponent(sleep.execId)}`);
    await expectSleepChainPages(page, sleep.arg);
  });
});
