import { expect, test, type Page } from '@playwright/test';
import { expectSleepChainPages, findSleep } from './support/chain';
import { recordedSleep } from './support/recording';
import { ACCOUNTS_ENV, e2eRun, REPLAY_SENSOR_ENV, storageStatePath } from './support/run';

// Signing in, roles on pages, and the browser hardening that goes with them.
const accounts = () => JSON.parse(process.env[ACCOUNTS_ENV] ?? '{}') as Record<'viewer' | 'admin', { email: string; password: string }>;
const run = e2eRun();

/** Collects Content-Security-Policy violations the page reports. */
function cspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

async function signIn(page: Page, who: 'viewer' | 'admin') {
  const form = page.getByRole('form', { name: 'Sign in' });
  await expect(form).toHaveAttribute('data-hydrated', 'true'); // React hydrated under the CSP
  await form.getByLabel('Email').fill(accounts()[who].email);
  await form.getByLabel('Password').fill(accounts()[who].password);
  await form.getByRole('button', { name: 'Sign in' }).click();
}

test.describe('signed out', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('login page → search → process page, with a nonce CSP and hydrated pages', async ({ page }) => {
    const violations = cspViolations(page);
    const response = await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
    const csp = response!.headers()['content-security-policy'];
    expect(csp!).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
    expect(csp!).toContain("frame-ancestors 'none'");
    const nonce = /'nonce-([^']+)'/.exec(csp!)![1]!;
    // Every script Next.js rendered carries this response's nonce.
    const scripts = await page.locator('script').evaluateAll((els) => els.map((el) => (el as HTMLScriptElement).nonce));
    expect(scripts.length).toBeGreaterThan(0);
    expect(new Set(scripts)).toEqual(new Set([nonce]));

    await signIn(page, 'viewer');
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId('signed-in-as')).toHaveText(accounts().viewer.email);
    await expect(page.getByTestId('signed-in-role')).toHaveText('viewer');
    await page.getByLabel('Binary / command').fill('sleep');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(/binary=sleep/);
    if (process.env[REPLAY_SENSOR_ENV] === 'ok') {
      const sleep = await recordedSleep();
      const row = await findSleep(page, sleep, '1h');
      await row.getByRole('link').click();
      await expect(page).toHaveURL(`/processes/${encodeURIComponent(sleep.execId)}`);
      await expect(page.getByRole('heading', { level: 1 })).toContainText('sleep');
    }
    expect(violations).toEqual([]);
  });

  test('a permalink opened in a fresh browser goes to the login page and back to the permalink', async ({ page }) => {
    test.skip(process.env[REPLAY_SENSOR_ENV] !== 'ok', process.env[REPLAY_SENSOR_ENV] ?? 'global setup did not run');
    const sleep = await recordedSleep();
    // Ingest is asynchronous: make sure the process is stored before following its permalink.
    const viewer = await page.context().browser()!.newContext({ storageState: storageStatePath(run, 'viewer') });
    await findSleep(await viewer.newPage(), sleep, '1h');
    await viewer.close();

    const permalink = `/processes/${encodeURIComponent(sleep.execId)}`;
    await page.goto(permalink);
    await expect(page).toHaveURL(`/login?next=${encodeURIComponent(permalink)}`);
    await signIn(page, 'viewer');
    await expect(page).toHaveURL(permalink);
    await expectSleepChainPages(page, sleep.arg);
  });

  test('a wrong password is refused with a message, and the API wants credentials', async ({ page, request }) => {
    await page.goto('/login');
    const form = page.getByRole('form', { name: 'Sign in' });
    await expect(form).toHaveAttribute('data-hydrated', 'true');
    await form.getByLabel('Email').fill(accounts().viewer.email);
    await form.getByLabel('Password').fill('not the password');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect(form.getByRole('alert')).toHaveText(/wrong email or password/);
    const api = await request.get('/api/trpc/processes.search');
    expect(api.status()).toBe(401);
    expect(api.headers()['www-authenticate']).toBe('Bearer realm="soc-cockpit"');
  });
});

test.describe('as a viewer', () => {
  test('admin pages are refused and not offered', async ({ page }) => {
    await page.goto('/');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link')).toHaveText(['Processes', 'Indicators', 'Investigations', 'Baselines', 'Sensors']);
    for (const path of ['/admin/users', '/admin/tokens', '/admin/audit']) {
      const response = await page.goto(path);
      expect(response!.status(), path).toBe(403);
      await expect(page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
      await expect(page.getByRole('table')).toHaveCount(0);
    }
  });

  test('security headers are on pages and API answers', async ({ page, request }) => {
    const pageResponse = await page.goto('/sensors');
    const api = await request.get('/api/trpc/auth.me');
    expect(api.status()).toBe(200);
    expect((await api.json()).result.data).toMatchObject({ kind: 'user', role: 'viewer' });
    for (const headers of [pageResponse!.headers(), api.headers()]) {
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('same-origin');
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    expect(api.headers()['cache-control']).toBe('no-store');
    expect(api.headers()['content-security-policy']).toContain("default-src 'none'");
  });
});

test.describe('as an admin', () => {
  test.use({ storageState: storageStatePath(run, 'admin') });

  test('creates an API token on the settings page, uses it from a script, and finds it all in the audit log', async ({ page, playwright, baseURL }) => {
    await page.goto('/admin/tokens');
    const form = page.getByRole('form', { name: 'Create an API token' });
    await form.getByLabel('Name').fill('e2e-script');
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('one-time-secret').textContent())!;
    expect(token).toMatch(/^soc_pat_[A-Za-z0-9_-]{43}$/);
    await expect(page.getByRole('table', { name: 'API tokens' }).getByRole('row').filter({ hasText: 'e2e-script' })).toContainText('active');

    const script = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
    expect((await (await script.get('/api/trpc/auth.me')).json()).result.data).toMatchObject({ kind: 'token', name: 'e2e-script', role: 'viewer' });
    expect((await script.get('/api/trpc/users.list')).status()).toBe(403);
    await script.dispose();

    await page.goto('/admin/audit');
    const events = page.getByRole('table', { name: 'Audit events' });
    await expect(events.locator('tr[data-action="tokens.create"]').first()).toContainText(accounts().admin.email);
    await expect(events.locator('tr[data-action="auth.sign_in"]').first()).toBeVisible();
    await expect(events.locator('tr[data-action="authz.denied"]').first()).toBeVisible();
  });

  test('a cross-origin POST with the session cookie is refused', async ({ request }) => {
    const forged = await request.post('/api/trpc/tokens.create', {
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      data: { name: 'csrf', role: 'admin', expiresInDays: 1 },
    });
    expect(forged.status()).toBe(403);
    expect((await forged.json()).error.message).toMatch(/cross-origin request refused/);
    const form = await request.post('/api/trpc/tokens.create', { headers: { origin: `http://localhost:${run.cockpitPort}` }, form: { name: 'csrf' } });
    expect(form.status()).toBe(415);
  });
});

test.describe('signing out', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('ends the session: the cockpit asks to sign in again', async ({ page }) => {
    await page.goto('/login');
    await signIn(page, 'viewer');
    await expect(page.getByTestId('signed-in-as')).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/sensors');
    await expect(page).toHaveURL(/\/login\?next=%2Fsensors$/);
  });
});
