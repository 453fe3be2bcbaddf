import { expect, type Locator, type Page } from '@playwright/test';

/**
 * The process chain both the live and the replay specs look for:
 *   sh -c 'sh -c "exec sleep ARG"'  →  sh -c 'exec sleep ARG'  →  sleep ARG
 * The live spec picks a distinctive ARG per run; the replay spec reads ARG (and the sleep's exec
 * id) from the recording, which was made by running this chain under the live sensor (--record).
 */

export const outerArgv = (arg: string) => `sh -c 'sh -c "exec sleep ${arg}"'`;
export const innerArgv = (arg: string) => `sh -c 'exec sleep ${arg}'`;
export const sleepArgv = (arg: string) => `sleep ${arg}`;

/**
 * Searches sleeps on the home page until the one wanted is listed (ingest is asynchronous): the
 * row with exactly `sleep ARG` as its arguments, or the row of `execId` when it is known.
 */
export async function findSleep(page: Page, target: { arg: string; execId?: string }, range: '15m' | '1h' | '24h'): Promise<Locator> {
  await page.goto(`/?binary=sleep&range=${range}`);
  const table = page.getByRole('table', { name: 'Processes found' });
  const row = target.execId
    ? table.locator(`tr[data-exec-id="${target.execId}"]`)
    : table.getByRole('row').filter({ has: page.getByRole('cell', { name: sleepArgv(target.arg), exact: true }) });
  await expect(async () => {
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(row).toHaveCount(1, { timeout: 2_000 });
  }).toPass({ timeout: 45_000 });
  return row;
}

/** Tree items' own line ("sleep [4242] /usr/bin/sleep — sleep 2.4242 — exit 0"), excluding nested items. */
function ownLine(item: Locator): Locator {
  return item.locator(':scope > .tree-list__item');
}

/**
 * On the sleep's page: the facts, the ancestry (root first, ending sh → sh → sleep, with argv) and
 * the tree (the same three, nested, the sleep highlighted); then selecting the inner sh in the tree
 * opens its page, where the sleep is its exec'd child.
 */
export async function expectSleepChainPages(page: Page, arg: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1 })).toContainText('sleep');
  await expect(page.getByRole('list', { name: 'argv' }).getByRole('listitem')).toHaveText(['sleep', arg]);
  await expect(page.locator('.page-header .badge')).toHaveText('exit 0');

  const ancestry = page.getByRole('list', { name: 'Ancestry, root first' }).getByRole('listitem');
  const texts = await ancestry.allTextContents();
  expect(texts.length).toBeGreaterThanOrEqual(3);
  const [outer, inner, self] = texts.slice(-3);
  expect(outer).toContain(outerArgv(arg));
  expect(inner).toContain(innerArgv(arg));
  expect(inner).toContain("exec'd sleep");
  expect(self).toContain(sleepArgv(arg));
  const binaries = await ancestry.locator('.ancestry__binary').allTextContents();
  expect(binaries.slice(-3)).toEqual([
    expect.stringMatching(/\/(sh|dash) \[\d+\]$/),
    expect.stringMatching(/\/(sh|dash) \[\d+\]$/),
    expect.stringMatching(/\/sleep \[\d+\]$/),
  ]);
  await expect(ancestry.last()).toHaveAttribute('aria-current', 'page');

  const tree = page.getByRole('tree', { name: 'Process tree' });
  const selfItem = tree.locator('li[data-role="self"]');
  await expect(selfItem).toHaveCount(1);
  await expect(ownLine(selfItem)).toContainText(`sleep [`);
  await expect(ownLine(selfItem)).toContainText(`— ${sleepArgv(arg)} — exit 0`);
  const innerItem = tree.locator('li[role="treeitem"]:has(> ul > li[data-role="self"])');
  // The inner sh exec'd the sleep in its own pid: ended there, with no exit of its own.
  await expect(ownLine(innerItem)).toContainText(`— ${innerArgv(arg)} — exec'd sleep`);
  const outerItem = tree.locator('li[role="treeitem"]:has(> ul > li > ul > li[data-role="self"])');
  await expect(ownLine(outerItem)).toContainText(`— ${outerArgv(arg)} —`);
  await expect(page.getByRole('img', { name: /Process tree chart/ }).locator('canvas')).toBeVisible();

  // Selecting a process in the tree opens it: the inner sh, whose exec'd child is the sleep.
  const sleepUrl = page.url();
  await ownLine(innerItem).getByRole('link').click();
  await expect(page).not.toHaveURL(sleepUrl);
  await expect(page.getByRole('list', { name: 'argv' }).getByRole('listitem')).toHaveText(['sh', '-c', `exec sleep ${arg}`]);
  const child = page.getByRole('tree', { name: 'Process tree' }).locator('li[data-role="child"]');
  await expect(child).toHaveCount(1);
  await expect(ownLine(child)).toContainText(`— ${sleepArgv(arg)} — exit 0`);
}
