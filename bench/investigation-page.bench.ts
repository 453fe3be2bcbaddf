/**
 * Issue 5's page budget: the investigation page usable — every panel drawn — in ≤ 1.5 s after
 * navigation, on the 100 M-event dataset (bench/dataset/generate.ts; never ./data).
 *
 *   npx next build                       # the production build this measures
 *   npx tsx bench/investigation-page.bench.ts [--path /tmp/soc-bench-investigations] [--runs 8] [--port 3400]
 *
 * It creates a viewer account in the dataset's storage (before the cockpit opens it: chDB allows
 * one process per data directory), starts `next start` on that storage with no sensors, signs in,
 * and drives Debian's chromium (Playwright). For each of the dataset's reference investigations:
 * the first visit after the cockpit started and warmed up on the list and on an investigation that
 * is not measured (cold: nothing of the investigation kept in memory; the analysis views are
 * read from storage, where the analysis keeper put them when the zooms ended — done here first
 * by bench/dataset/store-analyses.ts, as the dataset was generated, not streamed) and `--runs`
 * more visits in fresh browser contexts (warm: the views are kept while the evidence is
 * unchanged; every storage query still runs). "Usable" is the moment, measured in the page from
 * navigation start (performance.now()), when every panel has left its loading state and the
 * timeline's chart is drawn. Baseline in the same run: the investigations list, which draws one
 * query, so the ratio says what the investigation's panels add on this machine at this load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from '@playwright/test';
import { DEFAULT_DATASET_PATH, MANIFEST } from './dataset/manifest';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: DEFAULT_DATASET_PATH },
    runs: { type: 'string', default: '8' },
    port: { type: 'string', default: '3400' },
  },
});
const dataset = path.resolve(values.path!);
const runs = Number(values.runs);
const port = Number(values.port);
const base = `http://localhost:${port}`;

interface ManifestInvestigation {
  id: string;
  label: string;
  evidenceEvents: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out}`))));
  });
}

async function waitForCockpit(child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the cockpit exited (${child.exitCode})`);
    try {
      const r = await fetch(`${base}/login`);
      if (r.status < 500) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('the cockpit did not start within 120 s');
}

async function signIn(email: string, password: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new Error(`sign-in failed: HTTP ${response.status}`);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-soc_session='));
  return /^__Host-soc_session=([^;]+)/.exec(cookie ?? '')?.[1] ?? '';
}

/** Milliseconds from navigation start until every panel is drawn (or the investigations list's first rows, for the baseline). */
async function visit(browser: Browser, session: string, url: string, ready: 'investigation' | 'list'): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await context.addCookies([{ name: '__Host-soc_session', value: session, domain: 'localhost', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' }]);
  const page = await context.newPage();
  try {
    await page.goto(url, { waitUntil: 'commit' });
    if (ready === 'investigation') {
      await page.waitForFunction(
        () =>
          document.querySelectorAll('[data-panel]').length >= 8 &&
          !document.querySelector('[data-panel] .state--loading') &&
          !document.querySelector('[data-panel] .state--error') &&
          document.querySelector('[data-panel="timeline"] canvas') !== null,
        undefined,
        { polling: 'raf', timeout: 60_000 },
      );
    } else {
      await page.waitForFunction(() => document.querySelector('main table tbody tr') !== null && !document.querySelector('.state--loading'), undefined, { polling: 'raf', timeout: 60_000 });
    }
    return await page.evaluate(() => performance.now());
  } catch (err) {
    const shot = path.join(os.tmpdir(), 'investigation-page-bench-failure.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    throw new Error(`${url} was not drawn (${(err as Error).message.split('\n')[0]}); the page as it was: ${shot}`);
  } finally {
    await context.close();
  }
}

/** An investigation of the dataset other than the measured ones (investigations.list through the API). */
async function unmeasuredInvestigation(session: string, measured: ReadonlySet<string>): Promise<string | null> {
  const input = encodeURIComponent(JSON.stringify({ limit: 50 }));
  const response = await fetch(`${base}/api/trpc/investigations.list?input=${input}`, { headers: { cookie: `__Host-soc_session=${session}` } });
  if (!response.ok) throw new Error(`investigations.list: HTTP ${response.status}`);
  const body = (await response.json()) as { result?: { data?: { investigations?: Array<{ id: string }>; json?: { investigations?: Array<{ id: string }> } } } };
  const list = body.result?.data?.investigations ?? body.result?.data?.json?.investigations ?? [];
  return list.find((i) => !measured.has(i.id))?.id ?? null;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const manifestFile = path.join(dataset, MANIFEST);
  if (!existsSync(manifestFile)) throw new Error(`no dataset at ${dataset}: run bench/dataset/generate.ts first`);
  if (!existsSync(path.join(process.env.NEXT_DIST_DIR || '.next', 'BUILD_ID'))) throw new Error('no production build: run `npx next build` first');
  const investigations = (JSON.parse(readFileSync(manifestFile, 'utf8')) as { investigations: ManifestInvestigation[] }).investigations;

  const env = { ...process.env, CHDB_PATH: dataset, SENSORS: '', PORT: String(port) };
  // What the cockpit's analysis keeper did when the dataset's zooms ended (it runs beside the
  // collector, and this cockpit runs without sensors).
  console.log(`stored analyses: ${(await run('npx', ['tsx', 'bench/dataset/store-analyses.ts', '--path', dataset], env)).trim().split('\n').at(-1)}`);
  const email = `bench-${process.pid}@bench.test`;
  const created = await run('npx', ['tsx', 'server/auth/cli.ts', 'users', 'create', '--email', email, '--role', 'viewer', '--json'], env);
  const { password } = JSON.parse(created.trim().split('\n').at(-1)!) as { password: string };

  const cockpit = spawn('npx', ['next', 'start', '-p', String(port)], { env, stdio: 'ignore', detached: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    await waitForCockpit(cockpit);
    const session = await signIn(email, password);
    console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; dataset ${dataset}`);
    // Warm the server once (its code loaded, its route rendered): the list, then the page of an
    // investigation that is not measured (one of the dataset's noisy ones). What stays cold for
    // each measured investigation is its own data: nothing of it is kept in the cockpit's memory.
    await visit(browser, session, `${base}/investigations`, 'list');
    const other = await unmeasuredInvestigation(session, new Set(investigations.map((i) => i.id)));
    if (other) await visit(browser, session, `${base}/investigations/${other}`, 'investigation');
    const baseline: number[] = [];
    const rows: string[] = [];
    for (const inv of investigations) {
      const cold = await visit(browser, session, `${base}/investigations/${inv.id}`, 'investigation');
      const warm: number[] = [];
      for (let i = 0; i < runs; i++) {
        warm.push(await visit(browser, session, `${base}/investigations/${inv.id}`, 'investigation'));
        baseline.push(await visit(browser, session, `${base}/investigations`, 'list'));
      }
      warm.sort((a, b) => a - b);
      rows.push(`| ${inv.label} (${inv.evidenceEvents} evidence events) | ${cold.toFixed(0)} | ${pct(warm, 50).toFixed(0)} | ${pct(warm, 95).toFixed(0)} |`);
    }
    baseline.sort((a, b) => a - b);
    console.log('| investigation | first visit (cold), ms | usable p50, ms | usable p95, ms |');
    console.log('| --- | --- | --- | --- |');
    for (const r of rows) console.log(r);
    console.log(`baseline (investigations list drawn): p50 ${pct(baseline, 50).toFixed(0)} ms, p95 ${pct(baseline, 95).toFixed(0)} ms; load average now ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await browser.close();
    if (cockpit.pid) process.kill(-cockpit.pid, 'SIGTERM');
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
