import { spawn, type ChildProcess } from 'node:child_process';
import { expect, test, type Browser, type BrowserContext } from '@playwright/test';
import { findSleep } from './support/chain';
import { runTsx } from './support/processes';
import { e2eRun, LIVE_SENSOR_ENV, storageStatePath } from './support/run';

// The analyst's manual zoom-in, live: a process started now on this machine, seen by the live
// eBPF sensor; a responder orders a zoom on it from its page (the order goes over mTLS to the
// sensor, which attaches the probes), sees it active with its TTL counting down and a link to its
// investigation, then cancels it. A viewer sees the zooms but is told why it cannot order, and the
// API refuses the viewer's order.
const run = e2eRun();
const RESPONDER = { email: 'responder-zoom@e2e.test' };

/** A signed-in responder, made the way an operator makes one (the CLI through the admin socket). */
async function responderContext(browser: Browser): Promise<BrowserContext> {
  const out = await runTsx('server/auth/cli.ts', ['users', 'create', '--email', RESPONDER.email, '--role', 'responder', '--json']);
  const { password } = JSON.parse(out.trim().split('\n').at(-1)!) as { password: string };
  const base = `http://localhost:${run.cockpitPort}`;
  const response = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email: RESPONDER.email, password }),
  });
  expect(response.status).toBe(200);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-soc_session='))!;
  const value = /^__Host-soc_session=([^;]+)/.exec(cookie)![1]!;
  return browser.newContext({
    storageState: {
      cookies: [{ name: '__Host-soc_session', value, domain: 'localhost', path: '/', expires: -1, httpOnly: true, secure: true, sameSite: 'Lax' }],
      origins: [],
    },
  });
}

test.describe('zoom-in from the process page (live sensor)', () => {
  test.skip(process.env[LIVE_SENSOR_ENV] !== 'ok', process.env[LIVE_SENSOR_ENV] ?? 'global setup did not run');

  let sleeper: ChildProcess | undefined;
  test.afterAll(() => {
    if (sleeper?.pid && sleeper.exitCode === null) sleeper.kill('SIGKILL');
  });

  test('a responder orders a zoom on a live process, sees it active, cancels it; a viewer cannot order', async ({ browser }) => {
    // Distinctive per run, and long enough to outlive the test.
    const arg = `300.${String(Date.now() % 100_000).padStart(5, '0')}`;
    sleeper = spawn('sleep', [arg], { stdio: 'ignore', detached: true });
    const responder = await responderContext(browser);
    const page = await responder.newPage();

    const row = await findSleep(page, { arg }, '15m');
    await row.getByRole('link').first().click();
    await expect(page.getByRole('list', { name: 'argv' }).getByRole('listitem')).toHaveText(['sleep', arg]);
    const execId = (await page.locator('dl[aria-label="Process facts"] dt:text-is("Exec id") + dd code').textContent())!.trim();
    const processUrl = page.url();

    // The policy's defaults for manual orders: every probe set but CHILDREN, 120 s.
    const form = page.getByRole('form', { name: 'Order a zoom-in' });
    for (const name of ['IO_URING', 'NETWORK', 'FILES', 'CODE']) await expect(form.getByRole('checkbox', { name })).toBeChecked();
    await expect(form.getByRole('checkbox', { name: 'CHILDREN' })).not.toBeChecked();
    await expect(form.getByLabel(/TTL/)).toHaveValue('120');

    // An order the API refuses is shown with its reason, and nothing starts.
    for (const name of ['IO_URING', 'NETWORK', 'FILES', 'CODE']) await form.getByRole('checkbox', { name }).uncheck();
    await form.getByLabel(/Reason/).fill('e2e: no probe set');
    await form.getByRole('button', { name: 'Zoom in' }).click();
    const refusal = form.getByRole('alert');
    await expect(refusal).toContainText('The order is not valid — no zoom was started');
    await expect(refusal).toContainText('probes: at least one probe set');
    await expect(refusal).toHaveAttribute('data-error-code', 'BAD_REQUEST');

    // The order: NETWORK and FILES for 90 s.
    await form.getByRole('checkbox', { name: 'NETWORK' }).check();
    await form.getByRole('checkbox', { name: 'FILES' }).check();
    await form.getByLabel(/TTL/).fill('90');
    await form.getByLabel(/Reason/).fill('e2e: suspicious sleeper');
    await form.getByRole('button', { name: 'Zoom in' }).click();
    const done = form.getByRole('status');
    await expect(done).toContainText('is active');
    const investigationLink = done.getByRole('link', { name: /^investigation [0-9a-f]{24}$/ });
    await expect(investigationLink).toHaveAttribute('href', /^\/investigations\/[0-9a-f]{24}$/);
    const investigationId = (await investigationLink.textContent())!.replace('investigation ', '');

    // Listed with its state, probes, TTL left (at most 90 s) and investigation.
    const zooms = page.getByRole('table', { name: 'Zooms of this process' });
    const zoomRow = zooms.locator('tbody tr').filter({ hasText: 'e2e: suspicious sleeper' });
    await expect(zoomRow).toHaveCount(1);
    await expect(zoomRow.getByTestId('zoom-status')).toHaveText('active');
    await expect(zoomRow).toContainText('NETWORK FILES');
    await expect(zoomRow).toContainText(`${RESPONDER.email} (responder)`);
    await expect(zoomRow.getByRole('link', { name: investigationId })).toHaveAttribute('href', `/investigations/${investigationId}`);
    const remaining = await zoomRow.getByTestId('zoom-remaining').textContent();
    const [, minutes, seconds] = /^(?:(\d+) min )?(\d+) s/.exec(remaining!)!;
    const left = Number(minutes ?? 0) * 60 + Number(seconds);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(90);
    const zoomId = await zoomRow.getAttribute('data-zoom-id');
    expect(zoomId).toMatch(/^z-/);

    // The sensor has it: the zoom is listed by the API as active on the live sensor, targeting this exec id.
    const listed = await page.request.get(`/api/trpc/zooms.list?input=${encodeURIComponent(JSON.stringify({ investigationId }))}`);
    const active = ((await listed.json()) as { result: { data: { zooms: Array<{ id: string; status: string; sensor: string; target: { value: string }; targetPids: number[] }> } } }).result.data.zooms;
    expect(active).toEqual([expect.objectContaining({ id: zoomId, status: 'active', sensor: 'local', target: expect.objectContaining({ value: execId }), targetPids: [sleeper.pid] })]);

    // Cancel: at once, and the row says so.
    await zoomRow.getByRole('button', { name: 'Cancel' }).click();
    await expect(zoomRow.getByTestId('zoom-status')).toHaveText('cancelled');
    await expect(zoomRow.getByTestId('zoom-remaining')).toContainText('—');
    await expect(zoomRow.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
    await responder.close();

    // A viewer: sees the zoom and why ordering is unavailable; no form, no cancel; the API says 403.
    const viewer = await browser.newContext({ storageState: storageStatePath(run, 'viewer') });
    const viewerPage = await viewer.newPage();
    await viewerPage.goto(processUrl);
    await expect(viewerPage.getByTestId('zoom-unavailable')).toContainText('needs the scope zooms:order (role responder or admin)');
    await expect(viewerPage.getByRole('form', { name: 'Order a zoom-in' })).toHaveCount(0);
    const viewerRow = viewerPage.getByRole('table', { name: 'Zooms of this process' }).locator(`tr[data-zoom-id="${zoomId}"]`);
    await expect(viewerRow.getByTestId('zoom-status')).toHaveText('cancelled');
    await expect(viewerPage.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
    const denied = await viewerPage.request.post('/api/trpc/zooms.order', {
      headers: { origin: `http://localhost:${run.cockpitPort}`, 'content-type': 'application/json' },
      data: { execId, probes: ['NETWORK'], ttlSeconds: 30, reason: 'a viewer tries' },
    });
    expect(denied.status()).toBe(403);
    expect(((await denied.json()) as { error: { message: string } }).error.message).toContain('zooms.order needs the scope zooms:order');
    await viewer.close();
  });
});
