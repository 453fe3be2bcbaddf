import { expect, test, type Page } from '@playwright/test';
import { EXFIL_SENSOR_ENV, LIVE_SENSOR_ENV, REPLAY_SENSOR_ENV } from './support/run';

function card(page: Page, name: string) {
  return page.getByRole('article', { name: `Sensor ${name}` });
}

function field(page: Page, sensor: string, name: string) {
  return card(page, sensor).locator(`dd[data-field="${name}"]`);
}

// Every configured sensor is listed; the ones that run report their mode and no drops.
test('the sensors page shows each sensor with its mode and zero drops', async ({ page }) => {
  await page.goto('/sensors');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sensors');
  await expect(page.getByRole('article')).toHaveCount(3);
  await expect(card(page, 'local')).toBeVisible();
  await expect(card(page, 'replay')).toBeVisible();
  await expect(card(page, 'exfil')).toBeVisible();

  const expected: [string, string, string | undefined][] = [
    ['local', 'live', process.env[LIVE_SENSOR_ENV]],
    ['replay', 'replay', process.env[REPLAY_SENSOR_ENV]],
    ['exfil', 'replay', process.env[EXFIL_SENSOR_ENV]],
  ];
  for (const [name, mode, state] of expected) {
    if (state !== 'ok') {
      // Not running here: listed from the configuration, and saying it has not been heard from.
      await expect(field(page, name, 'status')).toContainText(/disconnected|never heard from/);
      test.info().annotations.push({ type: 'skipped part', description: `${name}: ${state}` });
      continue;
    }
    // The page refreshes itself; the collector stores each sensor's status every second.
    await expect(field(page, name, 'mode')).toHaveText(mode, { timeout: 30_000 });
    await expect(field(page, name, 'drops')).toHaveText('0 / 0');
    await expect(field(page, name, 'status')).toContainText(/connected|receiving/);
    await expect(field(page, name, 'last-stored-seq')).toHaveText(/^\d+/);
    await expect(card(page, name).getByText('Gaps and drops (24 h)')).toBeVisible();
  }
  if (process.env[LIVE_SENSOR_ENV] === 'ok') {
    await expect(field(page, 'local', 'btf')).toHaveText('available');
    await expect(field(page, 'local', 'programs')).toContainText(/^\d+ of \d+/);
    // Zoom programs waiting for a zoom (idle on purpose) are not shown as failures; whether any
    // wait depends on the zooms earlier tests left running.
    await expect(field(page, 'local', 'programs')).not.toContainText(/failed|not attached/);
  }
});
