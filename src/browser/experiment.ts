/**
 * `cluster-demo browser`: the user's own experiment in a real Chromium. Boots the cluster exactly as probe
 * does (or targets --url), launches the browser, runs the scenarios, and returns the facts and verdicts as
 * data; it never prints. The browser and the cluster are stopped on every path, Ctrl-C included.
 */
import { checkReachable } from '../load/reachable.js';
import { routeUrl } from '../load/url.js';
import { startCluster, type RunningCluster, type SchedulingPolicy } from '../server/primary.js';
import { summarizeScenario, toBrowserRequests, type ScenarioFacts, type ScenarioName } from './analyze.js';
import { launchBrowser, RequestRecorder, type LaunchedBrowser, type RawBrowserRequest } from './driver.js';
import { findBrowser } from './find.js';
import { browserConclusion, scenarioVerdict } from './verdict.js';

export interface BrowserOptions {
  url?: URL;
  workers: number;
  sched: SchedulingPolicy;
  scenarios: ScenarioName[];
  tabs: number;
  fetches: number;
  n: number;
  browserPath?: string;
  headed: boolean;
  /** Per scenario. */
  timeoutMs: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/** About 0.7 s of the route's loop on the 2-core machine this was tuned on: long enough to see queueing. */
export const DEFAULT_BROWSER_N = 600_000_000;

export interface BrowserScenarioResult extends ScenarioFacts {
  verdict: string;
}

export interface BrowserResult {
  target: string;
  inProcess: boolean;
  /** In-process cluster size; null with --url. */
  workers: number | null;
  policy: SchedulingPolicy | null;
  n: number;
  browser: { name: string; version: string; path: string; headless: boolean };
  scenarios: BrowserScenarioResult[];
  conclusion: string | null;
  /** Every request of every scenario got a 2xx/3xx response. */
  allOk: boolean;
  durationMs: number;
}

export interface BrowserObserver {
  onStart?(info: { target: string; browser: string }): void;
  onScenarioStart?(name: ScenarioName, requests: number): void;
  onScenarioDone?(facts: ScenarioFacts): void;
}

/** Ctrl-C: the run stopped; everything it started has been stopped too. */
export class BrowserInterrupted extends Error {
  override name = 'BrowserInterrupted';
}

async function recordTabs(launched: LaunchedBrowser, urls: string[], timeoutMs: number): Promise<Array<RawBrowserRequest | undefined>> {
  // A fresh context per scenario: its own cache and connection pool, so no scenario inherits another's idle
  // keep-alive connection. Tabs of one context share both, as tabs of one browser window do.
  const context = await launched.browser.newContext();
  try {
    const tabs = await Promise.all(urls.map(async () => {
      const page = await context.newPage();
      return { page, recorder: await RequestRecorder.attach(context, page) };
    }));
    // All at once, as a user who opens the tabs quickly; a failed navigation is recorded, not thrown.
    await Promise.allSettled(tabs.map(({ page }, i) => page.goto(urls[i]!, { timeout: timeoutMs, waitUntil: 'load' })));
    return await Promise.all(tabs.map(async ({ recorder }, i) => (await recorder.requestsFor([urls[i]!]))[0]));
  } finally {
    await context.close().catch(() => undefined);
  }
}

async function recordFetchBurst(launched: LaunchedBrowser, pageUrl: string, urls: string[], timeoutMs: number): Promise<Array<RawBrowserRequest | undefined>> {
  const context = await launched.browser.newContext();
  try {
    const page = await context.newPage();
    const recorder = await RequestRecorder.attach(context, page);
    // The page comes from the target itself, so the fetches are same-origin (no CORS in the way).
    await page.goto(pageUrl, { timeout: timeoutMs });
    await Promise.race([
      page.evaluate((list) => Promise.allSettled(list.map((u) => fetch(u).then((r) => r.text()))), urls),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
    return await recorder.requestsFor(urls);
  } finally {
    await context.close().catch(() => undefined);
  }
}

function scenarioUrls(name: ScenarioName, options: BrowserOptions, base: URL): string[] {
  const api = routeUrl(base, `/api/${options.n}`);
  if (name === 'same-url') return Array.from({ length: options.tabs }, () => api);
  if (name === 'distinct-urls') return Array.from({ length: options.tabs }, (_, i) => `${api}?tab=${i + 1}`);
  return Array.from({ length: options.fetches }, (_, i) => `${api}?fetch=${i + 1}`);
}

async function runScenario(name: ScenarioName, launched: LaunchedBrowser, options: BrowserOptions, base: URL): Promise<ScenarioFacts> {
  const urls = scenarioUrls(name, options, base);
  const raw = name === 'fetch-burst' ? await recordFetchBurst(launched, routeUrl(base, '/'), urls, options.timeoutMs) : await recordTabs(launched, urls, options.timeoutMs);
  return summarizeScenario(name, toBrowserRequests(urls, raw));
}

export async function runBrowserExperiment(options: BrowserOptions, observer: BrowserObserver = {}): Promise<BrowserResult> {
  const started = Date.now();
  // Find the browser before booting anything: a missing one is the commonest failure.
  const found = findBrowser(options.browserPath, options.env);
  const { signal } = options;
  const interrupted = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(new BrowserInterrupted());
    signal?.addEventListener('abort', () => reject(new BrowserInterrupted()), { once: true });
  });
  interrupted.catch(() => undefined);
  const untilInterrupted = <T>(work: Promise<T>) => Promise.race([work, interrupted]);

  // Kept as promises: a start still under way when Ctrl-C comes is waited for in `finally`, then stopped.
  let booting: Promise<RunningCluster> | undefined;
  let launching: Promise<LaunchedBrowser> | undefined;
  let cluster: RunningCluster | undefined;
  try {
    // The browser starts while the cluster boots: both take about a second.
    launching = launchBrowser(found.path, options.headed);
    launching.catch(() => undefined); // handled below, once the target is up; never an unhandled rejection
    let base: URL;
    if (options.url) {
      base = options.url;
      await untilInterrupted(checkReachable(base, 5000));
    } else {
      booting = startCluster({ port: 0, host: '127.0.0.1', workers: options.workers, sched: options.sched });
      cluster = await untilInterrupted(booting);
      base = new URL(cluster.url);
    }
    const browser = await untilInterrupted(launching);
    observer.onStart?.({ target: base.href, browser: `${browser.name} ${browser.version}` });

    const scenarios: BrowserScenarioResult[] = [];
    const facts: ScenarioFacts[] = [];
    for (const name of options.scenarios) {
      observer.onScenarioStart?.(name, name === 'fetch-burst' ? options.fetches : options.tabs);
      const result = await untilInterrupted(runScenario(name, browser, options, base));
      observer.onScenarioDone?.(result);
      facts.push(result);
    }
    const distinct = facts.find((s) => s.name === 'distinct-urls');
    const workers = cluster ? options.workers : null;
    for (const s of facts) scenarios.push({ ...s, verdict: scenarioVerdict(s, workers, distinct) });
    return {
      target: options.url ? options.url.href : base.origin,
      inProcess: !options.url,
      workers,
      policy: cluster ? cluster.policy : null,
      n: options.n,
      browser: { name: browser.name, version: browser.version, path: browser.path, headless: !options.headed },
      scenarios,
      conclusion: browserConclusion(facts),
      allOk: facts.every((s) => s.failed === 0),
      durationMs: Date.now() - started,
    };
  } finally {
    // The browser first (its open keep-alive connections would otherwise hold the workers' drain), then
    // the cluster.
    const launched = await launching?.catch(() => undefined);
    await launched?.browser.close().catch(() => undefined);
    const booted = await booting?.catch(() => undefined);
    await booted?.stop().catch(() => undefined);
  }
}
