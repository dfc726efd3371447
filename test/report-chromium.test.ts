/**
 * The HTML reports of real runs, opened from disk in a real Chromium (one for the file) with the network off:
 * no console error, no request leaves the file, and with JavaScript disabled every PID of the JSON is on the
 * page with its count. Screenshots go to docs/report-*.png with CLUSTER_DEMO_SCREENSHOTS=1 (else a temp dir).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type LaunchedBrowser } from '../src/browser/driver.js';
import type { BrowserResult } from '../src/browser/experiment.js';
import type { CompareResult } from '../src/compare/runner.js';
import type { FleetResult } from '../src/fleet/fleet.js';
import type { ProbeResult } from '../src/probe/run.js';
import { chromium, nginx } from './external.js';
import { runCli } from './helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-reports-'));
const shots = process.env.CLUSTER_DEMO_SCREENSHOTS === '1' ? fileURLToPath(new URL('../docs/', import.meta.url)) : work;
const count = (n: number) => Math.round(n).toLocaleString('en-US');

describe.skipIf(!chromium.path)('HTML reports in Chromium, offline', () => {
  let browser: LaunchedBrowser;
  beforeAll(async () => {
    browser = await launchBrowser(chromium.path!, false);
  });
  afterAll(async () => {
    await browser?.browser.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Runs the CLI with --json and --report; returns the JSON and the report's path. */
  async function run<T>(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ doc: T; file: string }> {
    const file = path.join(work, `${name}.html`);
    const result = await runCli([...args, '--json', '--report', file], { timeoutMs: 90_000, env });
    expect(result.stderr).toContain(`report: ${file}`);
    return { doc: JSON.parse(result.stdout) as T, file };
  }

  /** Opens the file offline: console errors and any request that is not the file itself are returned. */
  async function open(file: string, name: string, javaScriptEnabled = true): Promise<{ text: string; errors: string[]; requests: string[]; a4Pages: number }> {
    const context = await browser.browser.newContext({ offline: true, javaScriptEnabled, viewport: { width: 800, height: 900 } });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => r.url() !== `file://${file}` && requests.push(r.url()));
      await page.goto(`file://${file}`);
      if (javaScriptEnabled) await page.screenshot({ path: path.join(shots, `report-${name}.png`), fullPage: true });
      // Printed on A4: the PDF's page objects.
      const pdf = (await page.pdf({ format: 'A4' })).toString('latin1');
      const a4Pages = (pdf.match(/\/Type\s*\/Page[^s]/g) ?? []).length;
      return { text: await page.innerText('body'), errors, requests, a4Pages };
    } finally {
      await context.close();
    }
  }

  async function check(name: string, file: string, pidsAndCounts: Array<[number, number]>): Promise<void> {
    const withJs = await open(file, name);
    expect(withJs.errors).toEqual([]);
    expect(withJs.requests).toEqual([]);
    expect(withJs.a4Pages, 'A4 pages in print').toBeGreaterThanOrEqual(1);
    expect(withJs.a4Pages, 'A4 pages in print').toBeLessThanOrEqual(2);
    const noJs = await open(file, name, false);
    for (const [pid, n] of pidsAndCounts) {
      // The bar's label, and the table row: the PID (under its host behind a balancer), then its count.
      expect(noJs.text, `PID ${pid}`).toContain(`PID ${pid}`);
      expect(noJs.text, `PID ${pid}'s count`).toMatch(new RegExp(`(^|› )${pid}\\t${count(n)}\\t`, 'm'));
    }
  }

  it('probe with chaos: per-PID bars, latency, the timeline with deaths marked', async () => {
    const { doc, file } = await run<ProbeResult>('probe', ['probe', '--workers', '2', '--chaos', '400ms', '--retries', '1', '--duration', '2s', '--route', 'pid', '--concurrency', '20', '--no-progress']);
    await check('probe', file, doc.routes.flatMap((r) => r.workers.map((w): [number, number] => [w.pid!, w.requests])));
  });

  it('compare: the contenders side by side, the limit line on the heavy workload', async () => {
    const { doc, file } = await run<CompareResult>('compare', ['compare', '--runs', '6', '--requests', '150', '--n', '10000000', '--no-progress']);
    const opened = await open(file, 'compare', false);
    for (const w of doc.workloads) for (const side of [w.a, w.b]) expect(opened.text).toContain(`${count(side.rps)} req/s`);
    await check('compare', file, []);
  });

  it('browser: a waterfall per scenario, coloured by connection, the PID on each bar', async () => {
    const { doc, file } = await run<BrowserResult>('browser', ['browser', '--n', '100000000', '--fetches', '8', '--no-progress'], { CHROME_PATH: chromium.path });
    const perPid = new Map<number, number>();
    const opened = await open(file, 'browser', false);
    for (const s of doc.scenarios) {
      perPid.clear();
      for (const r of s.requests) perPid.set(r.pid!, (perPid.get(r.pid!) ?? 0) + 1);
      for (const [pid, n] of perPid) expect(opened.text).toContain(`PID ${pid} ×${n}`);
    }
    await check('browser', file, []);
  });

  it.skipIf(!nginx.path)('fleet: host → worker bars, and the browser through nginx over HTTP/2', async () => {
    const { doc, file } = await run<FleetResult>('fleet', ['fleet', '--hosts', '2', '--workers', '2', '--requests', '300', '--h2', '--browser', '--no-progress'], { CHROME_PATH: chromium.path });
    expect(doc.browser?.scenarios.length).toBe(3);
    await check('fleet', file, doc.routes.flatMap((r) => r.workers.map((w): [number, number] => [w.pid!, w.requests])));
  });
});
