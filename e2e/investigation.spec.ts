import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { runTsx } from './support/processes';
import { e2eRun, EXFIL_RECORDING, EXFIL_SENSOR_ENV, storageStatePath } from './support/run';

// The analyst's path through the reference attack, on the recording the real sensor made of it
// (io_uring exfiltration: a JavaScript service loads a C native module that reads a
// service-account token through io_uring and beacons it to an internal address in a
// length-prefixed binary format), replayed by the sensor named `exfil`: from the indicator inbox
// to the investigation page, every panel's values, brushing the timeline, a permalink opened in a
// fresh browser, and the verdict (a viewer cannot set it, an analyst can). At 1366×768, with
// screenshots for the docs.
const run = e2eRun();
const SHOTS = path.join('docs', 'screenshots');
/** What the C2 listener received while the recording was made, and where the victim ran (npm run scenario -- --record). */
interface Truth {
  c2MedianIntervalMs: number;
  frames: number;
  magic: string;
  c2: { address: string; port: number; service: string };
  victim: { workload: string; tokenPath: string; implant: string };
}
const TRUTH_FILE = EXFIL_RECORDING.replace(/\.socrec$/, '.truth.json');
const truth: Truth | null = fs.existsSync(TRUTH_FILE) ? (JSON.parse(fs.readFileSync(TRUTH_FILE, 'utf8')) as Truth) : null;
const C2_ADDRESS = truth ? `${truth.c2.address}:${truth.c2.port}` : '';
const ANALYST = { email: 'analyst-investigation@e2e.test' };

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, name), fullPage });
}

/** A signed-in analyst, made the way an operator makes one (the CLI through the admin socket). */
async function analystContext(browser: Browser): Promise<BrowserContext> {
  const out = await runTsx('server/auth/cli.ts', ['users', 'create', '--email', ANALYST.email, '--role', 'analyst', '--json']);
  const { password } = JSON.parse(out.trim().split('\n').at(-1)!) as { password: string };
  const base = `http://localhost:${run.cockpitPort}`;
  const response = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email: ANALYST.email, password }),
  });
  expect(response.status).toBe(200);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-soc_session='))!;
  const value = /^__Host-soc_session=([^;]+)/.exec(cookie)![1]!;
  return browser.newContext({
    viewport: { width: 1366, height: 768 },
    storageState: { cookies: [{ name: '__Host-soc_session', value, domain: 'localhost', path: '/', expires: -1, httpOnly: true, secure: true, sameSite: 'Lax' }], origins: [] },
  });
}

/** The number in the C2's "Contacts" line ("12, 2026-… → …"); 0 when the range holds no contact (no card). */
async function contactsOf(page: Page): Promise<number> {
  const card = page.locator(`article[data-destination="${C2_ADDRESS}"]`);
  if ((await card.count()) === 0) return 0;
  const text = await card.getByTestId('destination-contacts').textContent();
  return Number(/^(\d+),/.exec(text ?? '')?.[1] ?? Number.NaN);
}

async function waitForPanels(page: Page): Promise<void> {
  for (const name of ['timeline', 'ancestry', 'network', 'files', 'code', 'evidence']) {
    await expect(page.locator(`#panel-${name} .state--loading`)).toHaveCount(0, { timeout: 30_000 });
    await expect(page.locator(`#panel-${name} .state--error`)).toHaveCount(0);
  }
  await expect(page.locator('.inv-refreshing')).toHaveCount(0, { timeout: 30_000 });
}

test.describe('investigation page (the exfil recording)', () => {
  test.skip(process.env[EXFIL_SENSOR_ENV] !== 'ok' || !truth, process.env[EXFIL_SENSOR_ENV] ?? 'global setup did not run');
  test.use({ viewport: { width: 1366, height: 768 } });
  // One path through the page: the later tests start where the first one arrived. The replay runs
  // at the recorded pace from the global setup on, so the first test may wait for the attack.
  test.describe.configure({ mode: 'serial', timeout: 300_000 });

  let investigationUrl = '';

  test('from the inbox to the investigation: every panel shows the attack', async ({ page }) => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to (execute|load|apply)/i.test(message.text())) violations.push(message.text());
    });

    // The inbox: the io_uring indicator of the victim, replayed by `exfil` (the detector raises it).
    await page.goto('/indicators?range=1h&severity=high&kind=syscall');
    const row = page.locator('tbody.indicator-row').filter({ hasText: 'io_uring_setup' }).filter({ hasText: truth!.victim.workload });
    await expect(async () => {
      await page.reload();
      await expect(row.first()).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 150_000 });
    await row.first().getByRole('link', { name: /\d{4}-\d\d-\d\d/ }).click();
    await expect(page).toHaveURL(/\/indicators\/[0-9a-f]{24}$/);

    // The indicator's page links to its investigation.
    const investigations = page.getByRole('table', { name: 'Investigations of this indicator' });
    await expect(async () => {
      await page.reload();
      await expect(investigations.getByRole('link').first()).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 60_000 });
    await investigations.getByRole('link').first().click();
    await expect(page).toHaveURL(/\/investigations\/[0-9a-f]{24}$/);
    investigationUrl = new URL(page.url()).pathname;

    // Header: the indicator, why, where, status and verdict.
    await expect(page.getByRole('heading', { level: 1 })).toContainText('io_uring_setup');
    await expect(page.getByRole('heading', { level: 1 })).toContainText(truth!.victim.workload);
    await expect(page.getByTestId('investigation-severity')).toHaveText('high');
    await expect(page.getByTestId('investigation-why')).toContainText('io_uring_setup');
    await expect(page.getByTestId('investigation-why')).toContainText(/Compared with profile v\d+/);
    await expect(page.getByTestId('investigation-status')).toHaveText('open');
    await expect(page.getByTestId('zoom-state')).toContainText(/zoom/);
    await waitForPanels(page);

    // Timeline: io_uring, network and file lanes hold rows; zoom windows are drawn.
    for (const lane of ['ioUring', 'network', 'files', 'zooms']) {
      expect(Number(await page.getByTestId(`lane-total-${lane}`).textContent())).toBeGreaterThan(0);
    }

    // Ancestry: the victim's node process is the focus and the indicator's process.
    const focus = page.locator('.inv-chain > li.inv-proc--focus');
    await expect(focus).toHaveCount(1);
    await expect(focus.locator('.inv-proc__binary')).toHaveText(/\/node$/);
    await expect(focus.locator('.tag--alert')).toHaveText('indicator');
    await expect(focus.locator('.inv-proc__argv')).toContainText('server.mjs');

    // Network: the C2, named by the service map, beaconing a length-prefixed binary format. The
    // replay runs at the recorded pace: wait until the zoom's evidence holds enough beacons for a
    // period (the page refetches; a reload is what an analyst would do).
    await expect(async () => {
      await page.reload();
      await waitForPanels(page);
      expect(await contactsOf(page)).toBeGreaterThanOrEqual(6);
    }).toPass({ timeout: 150_000 });
    const c2 = page.locator(`article[data-destination="${C2_ADDRESS}"]`);
    await expect(c2.getByRole('heading', { level: 3 })).toContainText(truth!.c2.service);
    await expect(c2.getByRole('heading', { level: 3 })).toContainText('via io_uring only');
    // The beacons the zoom saw: never more than the C2 received.
    expect(await contactsOf(page)).toBeLessThanOrEqual(truth!.frames);
    // The measured period within 2 % of what the C2 logged.
    const median = Number(/median ([\d.]+) s/.exec((await c2.getByTestId('destination-interval').textContent()) ?? '')?.[1]) * 1000;
    expect(Math.abs(median - truth!.c2MedianIntervalMs)).toBeLessThan(truth!.c2MedianIntervalMs * 0.02);
    await expect(c2.getByTestId('destination-payload')).toContainText(/length-prefixed/i);
    await expect(c2.getByTestId('destination-bytes')).toContainText(/out \d/);
    // The captured prefix: a 4-byte length, then the frame's magic, in the ASCII column.
    await expect(c2.locator('.inv-hex').first()).toContainText(new RegExp(`\\|\\.\\.\\..${truth!.magic}`));

    // Files: the token, read through io_uring, stands out.
    const token = page.getByRole('table', { name: 'Files' }).locator('tr.inv-row--alert').filter({ hasText: truth!.victim.tokenPath });
    await expect(token.first()).toBeVisible();
    await expect(token.first()).toContainText('service_account_token');
    await expect(token.first()).toContainText('io_uring');

    // Code: the workload is JavaScript (node); the native module is C and flagged.
    await expect(page.getByTestId('code-workload')).toContainText('JavaScript');
    const module = page.getByRole('table', { name: 'Code modules' }).locator('tr.inv-row--alert').filter({ hasText: truth!.victim.implant });
    await expect(module.first().locator('td').nth(1)).toHaveText('native module');
    await expect(module.first().locator('td').nth(2)).toHaveText(/^C(?!\+)/);
    await expect(module.first().locator('td').nth(2).locator('.badge')).toHaveText('differs from workload');
    await expect(module.first().locator('td').nth(4)).toHaveText(/^[0-9a-f]{12}…[0-9a-f]{4}$/);

    // Evidence: indicator → findings → rows; a row opens as the selected row.
    const tree = page.getByRole('list', { name: 'Evidence tree' });
    await expect(tree.locator('[data-finding-kind="sensitive_file"]')).toHaveCount(1);
    await expect(tree.locator('[data-finding-kind="payload_format"]')).toHaveCount(1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, 'investigation.png');
    await shot(page, 'investigation-full.png', true);
    await page.locator('body').press('3');
    await expect(page.locator('#panel-network')).toBeFocused();
    await shot(page, 'investigation-network.png');

    // The token read's row, opened from the tree: the whole row, docked at the bottom, in the URL.
    const firstRow = tree.locator('[data-finding-kind="sensitive_file"] .inv-tree__rows a').first();
    await firstRow.click();
    await expect(page).toHaveURL(/[?&]row=f-/);
    await expect(page.getByTestId('selected-row')).toContainText(truth!.victim.tokenPath);
    await expect(page.getByTestId('selected-row')).toContainText('io_uring');
    await shot(page, 'investigation-row.png');
    expect(violations).toEqual([]);
  });

  test('brushing the timeline narrows every panel; the permalink reproduces the view elsewhere; a process focuses every panel', async ({ page, browser }) => {
    test.skip(!investigationUrl, 'the first test did not reach the investigation');
    // The replay streams at the recorded pace (with times shifted into the past): ranges are
    // compared once it has served everything and the page's numbers stopped moving.
    await page.goto('/sensors');
    await expect(async () => {
      await page.reload();
      await expect(page.locator('article[data-sensor="exfil"] dd[data-field="recording"]')).toHaveText(/\b(\d+)\/\1 batches served/, { timeout: 1_000 });
    }).toPass({ timeout: 180_000 });
    await page.goto(investigationUrl);
    let before = -1;
    await expect(async () => {
      await page.reload();
      await waitForPanels(page);
      const seen = before;
      before = await contactsOf(page);
      expect(before).toBe(seen);
    }).toPass({ timeout: 60_000 });
    const filesBefore = Number(await page.getByTestId('lane-total-files').textContent());

    // Drag across the timeline from a quarter into the beacons to past their end: a narrower range
    // for every panel. The chart's grid is inset 110 px left and 24 px right.
    const contacts = (await page.locator(`article[data-destination="${C2_ADDRESS}"]`).getByTestId('destination-contacts').textContent())!;
    const [firstMs, lastMs] = [...contacts.matchAll(/(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/g)].map((m) => Date.parse(`${m[1]}T${m[2]}Z`));
    const fromMs = Date.parse(`${await page.getByTestId('range-from').inputValue()}Z`);
    const toMs = Date.parse(`${await page.getByTestId('range-to').inputValue()}Z`);
    const chart = page.getByTestId('timeline-chart');
    const box = (await chart.boundingBox())!;
    const y = box.y + box.height / 2;
    const x = (ms: number) => box.x + 110 + ((box.width - 134) * (ms - fromMs)) / (toMs - fromMs);
    await page.mouse.move(x(firstMs! + (lastMs! - firstMs!) / 4), y);
    await page.mouse.down();
    await page.mouse.move(Math.min(x(lastMs! + 2_000), box.x + box.width - 25), y, { steps: 8 });
    await page.mouse.up();
    await expect(page).toHaveURL(/[?&]from=\d+&to=\d+/);
    await waitForPanels(page);
    await expect(page.getByTestId('range-span')).toContainText('Narrowed to');
    const after = await contactsOf(page);
    expect(after).toBeLessThan(before);
    expect(after).toBeGreaterThan(0);
    expect(Number(await page.getByTestId('lane-total-files').textContent())).toBeLessThanOrEqual(filesBefore);

    // Typed range: exact nanoseconds from the URL, the other panels follow.
    const url = new URL(page.url());
    const from = url.searchParams.get('from')!;
    const to = url.searchParams.get('to')!;
    expect(BigInt(to)).toBeGreaterThan(BigInt(from));

    // Focus the panel by keyboard (3 = network) and copy the link.
    await page.locator('body').press('3');
    await expect(page).toHaveURL(/[?&]panel=network/);
    await expect(page.locator('#panel-network')).toBeFocused();
    const permalink = await page.getByTestId('permalink').inputValue();
    expect(permalink).toContain(`from=${from}`);
    expect(permalink).toContain('panel=network');
    const contactsHere = await contactsOf(page);
    await shot(page, 'investigation-brushed.png');

    // A fresh browser context (another analyst's browser): the same state from the link alone.
    const other = await browser.newContext({ viewport: { width: 1366, height: 768 }, storageState: storageStatePath(run, 'viewer') });
    const otherPage = await other.newPage();
    await otherPage.goto(permalink);
    await waitForPanels(otherPage);
    await expect(otherPage.getByTestId('range-span')).toContainText('Narrowed to');
    await expect(otherPage.getByTestId('range-from')).toHaveValue(await page.getByTestId('range-from').inputValue());
    await expect(otherPage.locator('#panel-network')).toHaveClass(/inv-panel--active/);
    expect(await contactsOf(otherPage)).toBe(contactsHere);
    await other.close();

    // "Whole investigation" undoes the range.
    await page.getByRole('button', { name: 'Whole investigation' }).click();
    await expect(page).not.toHaveURL(/[?&]from=/);
    await waitForPanels(page);
    expect(await contactsOf(page)).toBe(before);

    // Selecting the victim's parent in the ancestry focuses every panel on that process: it made
    // no connection and read no token (the evidence is the victim's). Back to the indicator's.
    const chain = page.locator('.inv-chain > li');
    const parent = chain.nth((await chain.count()) - 2);
    const parentExecId = (await parent.getAttribute('data-exec-id'))!;
    await parent.locator('.inv-proc__binary').click();
    await expect(page).toHaveURL(new RegExp(`[?&]exec=${encodeURIComponent(parentExecId)}`));
    await expect(page.getByTestId('focus-banner')).toContainText(parentExecId);
    await waitForPanels(page);
    await expect(page.locator('.inv-chain > li.inv-proc--focus')).toHaveAttribute('data-exec-id', parentExecId);
    await expect(page.locator('#panel-network .state--empty')).toHaveText('No connection in this range for this process.');
    await expect(page.getByTestId('lane-total-network')).toHaveText('0');
    await page.getByRole('button', { name: "Back to the indicator's process" }).click();
    await expect(page).not.toHaveURL(/[?&]exec=/);
    await waitForPanels(page);
    expect(await contactsOf(page)).toBe(before);
  });

  test('a viewer cannot set the verdict; an analyst can, and it shows who and when', async ({ page, browser }) => {
    test.skip(!investigationUrl, 'the first test did not reach the investigation');
    // The default context is a viewer's.
    await page.goto(`${investigationUrl}?panel=notes`);
    await expect(page.getByTestId('verdict-unavailable')).toContainText('verdicts:write');
    await expect(page.getByRole('form', { name: 'Set the verdict' })).toHaveCount(0);
    const id = investigationUrl.split('/').at(-1)!;
    const denied = await page.request.post('/api/trpc/investigations.setVerdict', {
      headers: { origin: `http://localhost:${run.cockpitPort}`, 'content-type': 'application/json' },
      data: { id, verdict: 'benign', reason: 'a viewer tries' },
    });
    expect(denied.status()).toBe(403);

    const analyst = await analystContext(browser);
    const analystPage = await analyst.newPage();
    await analystPage.goto(`${investigationUrl}?panel=notes`);
    const form = analystPage.getByRole('form', { name: 'Set the verdict' });
    await form.getByRole('radio', { name: 'Malicious' }).check();
    await form.getByLabel(/Reason/).fill(`io_uring token read beaconed to ${truth!.c2.service}: exfiltration`);
    await form.getByRole('button', { name: 'Set verdict' }).click();
    await expect(analystPage.getByTestId('verdict-value')).toHaveText('malicious');
    await expect(analystPage.getByTestId('verdict-by')).toHaveText(ANALYST.email);
    await expect(analystPage.getByTestId('verdict-at')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    await expect(analystPage.getByTestId('investigation-verdict')).toHaveText('malicious');
    const note = analystPage.getByRole('form', { name: 'Add a note' });
    await note.getByLabel('Note').fill('Token rotated; the native module removed from release 1.1.');
    await note.getByRole('button', { name: 'Add note' }).click();
    await expect(analystPage.getByRole('list', { name: 'Notes, oldest first' })).toContainText('Token rotated');
    await expect(analystPage.getByRole('list', { name: 'Notes, oldest first' })).toContainText(ANALYST.email);
    await shot(analystPage, 'investigation-verdict.png');
    await analyst.close();

    // The viewer sees the verdict with who and when.
    await page.reload();
    await expect(page.getByTestId('verdict-value')).toHaveText('malicious');
    await expect(page.getByTestId('verdict-by')).toHaveText(ANALYST.email);
  });

  test('the list shows the investigation; a bad link is explained, not an error page', async ({ page }) => {
    test.skip(!investigationUrl, 'the first test did not reach the investigation');
    await page.goto('/investigations');
    const row = page.getByRole('table', { name: 'Investigations' }).locator(`tr[data-investigation-id="${investigationUrl.split('/').at(-1)}"]`);
    await expect(row).toContainText(truth!.victim.workload);
    await row.getByRole('link').first().click();
    await expect(page).toHaveURL(investigationUrl);
    await page.goto(`${investigationUrl}?from=yesterday&panel=nope&exec=x`);
    await expect(page.getByTestId('ignored-params')).toContainText('from: not a nanosecond timestamp');
    await expect(page.getByTestId('ignored-params')).toContainText('panel: one of');
    await page.goto('/investigations/ffffffffffffffffffffffff');
    await expect(page.locator('.state--error')).toContainText('Not found — investigation ffffffffffffffffffffffff');
  });
});
