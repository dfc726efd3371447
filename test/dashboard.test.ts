/**
 * /dashboard in a real headless Chromium (Debian's, found on PATH; one browser for the file) against a real
 * `cluster-demo serve`: the rows follow the primary's counts, the buttons draw per-PID bars, dead and replaced
 * workers show as such, the page reconnects across a rolling restart, and nothing leaves loopback.
 * The screenshot goes to docs/dashboard.png with CLUSTER_DEMO_SCREENSHOTS=1 (else a temp dir).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type LaunchedBrowser } from '../src/browser/driver.js';
import { runLoad } from '../src/load/engine.js';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import type { ClusterStatsDoc } from '../src/cluster/counts/document.js';
import { chromium } from './external.js';
import { request, waitFor } from './helpers.js';
import { APPS } from './apps.js';

const screenshotDir = process.env.CLUSTER_DEMO_SCREENSHOTS === '1' ? fileURLToPath(new URL('../docs/', import.meta.url)) : mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-shots-'));

describe.skipIf(!chromium.path)('the live dashboard in Chromium', () => {
  let browser: LaunchedBrowser;
  let server: SpawnedServer;
  beforeAll(async () => {
    [browser, server] = await Promise.all([launchBrowser(chromium.path!, false), spawnServe(['--port', '0', '--workers', '2'])]);
  });
  afterAll(async () => {
    await browser?.browser.close();
    await server?.stop('SIGTERM', 10_000);
    if (!process.env.CLUSTER_DEMO_SCREENSHOTS) rmSync(screenshotDir, { recursive: true, force: true });
  });

  async function stats(): Promise<ClusterStatsDoc> {
    return JSON.parse((await request(server.url, '/_cluster/stats')).body) as ClusterStatsDoc;
  }

  /** The rows as the page shows them: pid → [state, requests] from the data attributes. */
  function rows(page: Page): Promise<Array<{ pid: number; state: string; requests: number }>> {
    return page.$$eval('#workers tbody tr', (trs) => trs.map((tr) => ({ pid: Number(tr.getAttribute('data-pid')), state: tr.getAttribute('data-state') ?? '', requests: Number(tr.getAttribute('data-requests')) })));
  }

  it('follows the counts live, draws each experiment, shows deaths, reconnects across a reload; no console error, nothing off loopback', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 900 } });
    // Every request the page makes, recorded (not intercepted: Playwright's routing would turn off the HTTP cache,
    // and with it the cache lock the same-URL experiment shows).
    const offLoopback: string[] = [];
    context.on('request', (r) => {
      const host = new URL(r.url()).hostname;
      if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') offLoopback.push(r.url());
    });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    // Which worker carries the page's event stream (a killed worker would cut it: a reconnect, and a logged error).
    let streamPid: number | undefined;
    page.on('response', (r) => r.url().endsWith('/_cluster/events') && (streamPid = Number(r.headers()['x-worker-pid'])));
    try {
      const response = await page.goto(`${server.url}/dashboard`);
      expect(response?.status()).toBe(200);
      // The user's own tab, answered: the worker that served it, from the response's own header.
      expect(await page.textContent('#served-pid')).toBe(response?.headers()['x-worker-pid']);
      expect(await page.textContent('#served-conn')).toMatch(/^127\.0\.0\.1:\d+ \(HTTP\/1\.1\)$/);
      await waitFor('both workers listed', async () => ((await rows(page)).filter((r) => r.state === 'listening').length === 2 ? true : undefined));

      await runLoad({ target: new URL(server.url), path: '/pid', concurrency: 10, requests: 400, keepAlive: false, timeoutMs: 10_000, retries: 0 });
      const doc = await stats();
      expect(doc.totals.requests).toBeGreaterThanOrEqual(400);
      await waitFor('every row to show the server\'s count', async () => {
        const shown = await rows(page);
        return doc.workers.every((w) => shown.find((r) => r.pid === w.pid)?.requests === w.requests) ? true : undefined;
      }, 2_000);

      await page.fill('#n', '50000000');
      await page.click('#distinct-urls');
      const bars = await waitFor('the per-PID bars of 4 distinct URLs', async () => {
        const drawn = await page.$$eval('#result .pidbar', (els) => els.map((el) => ({ pid: Number(el.getAttribute('data-pid')), count: Number(el.getAttribute('data-count')) })));
        return drawn.reduce((s, b) => s + b.count, 0) === 4 ? drawn : undefined;
      }, 10_000);
      for (const bar of bars) expect(server.readyPids).toContain(bar.pid);
      // Connections from Server-Timing (the dashboard's cookie), PIDs from the bodies.
      // The verdict is the CLI's own (browser/verdict.ts, bundled into the page): the same words `browser` prints.
      expect(await page.textContent('#verdict')).toMatch(new RegExp(`^4 tabs, distinct URLs: .*(over \\d+ connections \\(\\d+ new\\)|on connection \\d+) → ${bars.length} PIDs?( of 2 workers)?\\.`));

      // A death: the dead worker stays listed as exited, its replacement appears.
      const victim = server.readyPids.find((pid) => pid !== streamPid)!;
      process.kill(victim, 'SIGKILL');
      await waitFor('the dead worker shown as exited and a replacement listening', async () => {
        const shown = await rows(page);
        return shown.some((r) => r.pid === victim && r.state === 'exited') && shown.filter((r) => r.state === 'listening').length === 2 ? true : undefined;
      }, 5_000);
      // serve's own log line (report/cluster-log.ts, bundled into the page).
      expect(await page.textContent('#events')).toContain(`Worker ${victim} died (SIGKILL)`);
      await page.click('#same-url');
      const same = await waitFor('the same-URL verdict', async () => {
        const text = (await page.textContent('#verdict')) ?? '';
        return /^4 tabs, same URL: .*→/.test(text) ? text : undefined;
      }, 10_000);
      // The user's symptom, in their own browser: one request at a time, one reused connection, one PID.
      expect(same).toMatch(/^4 tabs, same URL: served one after another \(tab 2 queued .*\), all 4 on connection \d+ → 1 PID of 2 workers\. Chromium sends one request per URL at a time \(its HTTP cache lock\): the others wait for the first response\. Each then reused the idle keep-alive connection/);
      expect(await page.$$eval('#result .pidbar', (els) => els.map((el) => el.getAttribute('data-count')))).toEqual(['4']);
      await page.screenshot({ path: path.join(screenshotDir, 'dashboard.png'), fullPage: true });

      // A rolling restart ends the event stream of every old worker; the page reconnects by itself.
      const before = new Set((await rows(page)).filter((r) => r.state === 'listening').map((r) => r.pid));
      server.child.kill('SIGHUP');
      await waitFor('the reload-finished event', () => server.events().find((e) => e.type === 'reload-finished'), 15_000);
      await waitFor('the page live again, showing only new workers as listening', async () => {
        const live = (await rows(page)).filter((r) => r.state === 'listening');
        return live.length === 2 && live.every((r) => !before.has(r.pid)) && (await page.textContent('#status')) === 'live' ? true : undefined;
      }, 5_000);

      expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
      expect(offLoopback).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("serve --app: the page on the primary's stats port follows the app's counts, and its buttons fetch a path of the app", async () => {
    const appServer = await spawnServe(['--app', `${APPS}express4.cjs`, '--workers', '2']);
    const context = await browser.browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    try {
      const ready = appServer.events().find((e) => e.type === 'ready');
      const dashboardUrl = ready?.type === 'ready' ? ready.dashboardUrl! : '';
      expect(new URL(dashboardUrl).port).not.toBe(new URL(appServer.url).port);
      expect((await page.goto(dashboardUrl))?.status()).toBe(200);
      await waitFor('both workers listed', async () => ((await rows(page)).filter((r) => r.state === 'listening').length === 2 ? true : undefined));
      expect(await page.isVisible('#path')).toBe(true);
      expect(await page.isVisible('#n')).toBe(false);
      await page.fill('#path', '/users/3');
      await page.click('#distinct-urls');
      const bars = await waitFor('the per-PID bars of 4 distinct URLs of the app', async () => {
        const drawn = await page.$$eval('#result .pidbar', (els) => els.map((el) => ({ pid: Number(el.getAttribute('data-pid')), count: Number(el.getAttribute('data-count')) })));
        return drawn.reduce((s, b) => s + b.count, 0) === 4 ? drawn : undefined;
      }, 10_000);
      for (const bar of bars) expect(appServer.readyPids).toContain(bar.pid);
      // The connections too: the agent let the dashboard's origin read Server-Timing.
      expect(await page.textContent('#verdict')).toMatch(new RegExp(`^4 tabs, distinct URLs: .*(over \\d+ connections \\(\\d+ new\\)|on connection \\d+) → ${bars.length} PIDs?( of 2 workers)?\\.`));
      // The rows follow the app's counts (what the buttons sent, counted by the agent in each worker).
      await waitFor("the rows to count the app's requests", async () => ((await rows(page)).reduce((s, r) => s + r.requests, 0) >= 4 ? true : undefined), 3_000);
      expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
    } finally {
      await context.close();
      await appServer.stop('SIGTERM', 10_000);
    }
  });
});
