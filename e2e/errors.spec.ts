import { expect, test } from '@playwright/test';

// What an analyst sees when a link or a search is wrong: a plain sentence, never a blank page.
test('an unknown exec id says there is no such process', async ({ page }) => {
  const execId = 'node-x:0a1b2c3d:1:1:1';
  await page.goto(`/processes/${encodeURIComponent(execId)}`);
  const alert = page.getByRole('main').getByRole('alert');
  await expect(alert).toContainText(`Not found — process ${execId}`);
  await expect(alert).toContainText(`no process with exec id ${execId}`);
});

test('a malformed exec id says what an exec id looks like', async ({ page }) => {
  await page.goto('/processes/not-an-exec-id');
  await expect(page.getByRole('main').getByRole('alert')).toContainText('invalid input: execId: not an exec id (node:boot:start_ns:pid:exec_count)');
});

test('a search with an invalid pid explains itself, and an empty result says so', async ({ page }) => {
  await page.goto('/?pid=12a');
  await expect(page.getByRole('main').getByRole('alert')).toHaveText('PID "12a" is not a process id.');
  await page.goto('/?binary=no-such-binary-e2e&range=15m');
  await expect(page.getByText('Nothing matches. Widen the time range or remove a filter.')).toBeVisible();
  await expect(page.getByText(/^No process started between/)).toBeVisible();
});

test('the search form keeps its state in the URL', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Binary / command').fill('sleep');
  await page.getByLabel('PID').fill('4242');
  await page.getByLabel('Time range').selectOption('6h');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/\?binary=sleep&pid=4242&range=6h$/);
  await page.reload();
  await expect(page.getByLabel('Binary / command')).toHaveValue('sleep');
  await expect(page.getByLabel('Time range')).toHaveValue('6h');
});
