/**
 * `cluster-demo browser`: the user's own experiment in a real Chromium. Boots the cluster exactly as probe
 * does (or targets --url), launches the browser, runs the scenarios, and returns the facts and verdicts as
 * data; it never prints. The browser and the cluster are stopped on every path, Ctrl-C included.
 */
import type { AppOptions } from '../app/app-setup.js';
import { checkReachable } from '../load/reachable.js';
import { routeUrl } from '../load/url.js';
import { startCluster, type RunningCluster, type SchedulingPolicy } from '../cluster/primary.js';
import { describeCertificate, selfSignedCertificate, type TlsMaterial } from '../cluster/tls/certificate.js';
import { summarizeScenario, toBrowserRequests, type ScenarioFacts, type ScenarioName } from './analyze.js';
import { closeBrowser, launchBrowser, loadPlaywright, RequestRecorder, type LaunchedBrowser, type RawBrowserRequest } from './driver.js';
import { findBrowser } from '../external/find-program.js';
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
  /** In-process: the protocols the cluster serves, one run of the scenarios each (default HTTP/1.1 only). */
  protocols?: BrowserProtocol[];
  /** --url https://…: accept a certificate that does not verify. */
  insecure?: boolean;
  /** --url https://…: the one certificate to trust (PEM), e.g. one this tool made (fleet's nginx). */
  ca?: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Boot the user's app as the cluster (`--app`), HTTP/1.1. */
  app?: AppOptions & { listenTimeoutMs?: number };
  /** The path the tabs and fetches load (default /api/n of the demo server; `--path`, e.g. a page of the app). */
  path?: string;
}

/** What the in-process cluster serves to the browser: plain HTTP/1.1, or HTTPS with HTTP/2. */
export type BrowserProtocol = 'http/1.1' | 'h2';

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
  /** In-process: what the cluster served, in the order run; with --url: what the browser negotiated. */
  protocols: string[];
  browser: { name: string; version: string; path: string; headless: boolean };
  /** Every scenario of every protocol, in the order run; each says its protocol. */
  scenarios: BrowserScenarioResult[];
  conclusion: string | null;
  /** Every request of every scenario got a 2xx/3xx response. */
  allOk: boolean;
  durationMs: number;
}

export interface BrowserObserver {
  onStart?(info: { target: string; browser: string; protocol: string }): void;
  onScenarioStart?(name: ScenarioName, requests: number): void;
  onScenarioDone?(facts: ScenarioFacts): void;
}

/** Ctrl-C: the run stopped; everything it started has been stopped too. */
export class BrowserInterrupted extends Error {
  override name = 'BrowserInterrupted';
}

interface Run {
  launched: LaunchedBrowser;
  options: BrowserOptions;
  untilInterrupted: <T>(work: Promise<T>) => Promise<T>;
  observer: BrowserObserver;
}

/** A fresh context per scenario: its own cache and connection pool, so no scenario inherits another's idle connection. */
function newContext(run: Run) {
  return run.launched.browser.newContext({ ignoreHTTPSErrors: run.options.insecure === true });
}

async function recordTabs(run: Run, urls: string[]): Promise<Array<RawBrowserRequest | undefined>> {
  // Tabs of one context share its cache and connections, as tabs of one browser window do.
  const context = await newContext(run);
  try {
    const tabs = await Promise.all(urls.map(async () => {
      const page = await context.newPage();
      return { page, recorder: await RequestRecorder.attach(context, page) };
    }));
    // All at once, as a user who opens the tabs quickly; a failed navigation is recorded, not thrown.
    await Promise.allSettled(tabs.map(({ page }, i) => page.goto(urls[i]!, { timeout: run.options.timeoutMs, waitUntil: 'load' })));
    return await Promise.all(tabs.map(async ({ recorder }, i) => (await recorder.requestsFor([urls[i]!]))[0]));
  } finally {
    await context.close().catch(() => undefined);
  }
}

async function recordFetchBurst(run: Run, pageUrl: string, urls: string[]): Promise<Array<RawBrowserRequest | undefined>> {
  const context = await newContext(run);
  try {
    const page = await context.newPage();
    const recorder = await RequestRecorder.attach(context, page);
    // The page comes from the target itself, so the fetches are same-origin (no CORS in the way).
    await page.goto(pageUrl, { timeout: run.options.timeoutMs });
    await Promise.race([
      page.evaluate((list) => Promise.allSettled(list.map((u) => fetch(u).then((r) => r.text()))), urls),
      new Promise((resolve) => setTimeout(resolve, run.options.timeoutMs).unref()),
    ]);
    return await recorder.requestsFor(urls);
  } finally {
    await context.close().catch(() => undefined);
  }
}

/**
 * Tabs that each open a WebSocket to /ws (from a page of the same origin) and wait for the worker's greeting; the
 * sockets stay open until every tab has its greeting, as tabs of a live app would hold them.
 */
async function recordWebSockets(run: Run, pageUrl: string, urls: string[]): Promise<Array<RawBrowserRequest | undefined>> {
  const context = await newContext(run);
  try {
    const tabs = await Promise.all(urls.map(async () => {
      const page = await context.newPage();
      return { page, recorder: await RequestRecorder.attach(context, page) };
    }));
    await Promise.allSettled(tabs.map(({ page }) => page.goto(pageUrl, { timeout: run.options.timeoutMs })));
    const greeting = (url: string) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(url);
        (globalThis as unknown as { held?: WebSocket[] }).held = [socket];
        socket.onmessage = (event) => resolve(String(event.data));
        socket.onerror = () => resolve('error');
        socket.onclose = () => resolve('closed');
      });
    await Promise.race([
      Promise.allSettled(tabs.map(({ page }, i) => page.evaluate(greeting, urls[i]!))),
      new Promise((resolve) => setTimeout(resolve, run.options.timeoutMs).unref()),
    ]);
    return await Promise.all(tabs.map(async ({ recorder }, i) => (await recorder.requestsFor([urls[i]!]))[0]));
  } finally {
    await context.close().catch(() => undefined);
  }
}

function scenarioUrls(name: ScenarioName, options: BrowserOptions, base: URL): string[] {
  if (name === 'websocket') {
    const ws = new URL(routeUrl(base, '/ws'));
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    return Array.from({ length: options.tabs }, () => ws.toString());
  }
  const api = routeUrl(base, options.path ?? `/api/${options.n}`);
  // Distinct URLs differ in a query parameter, added to the path's own query if it has one.
  const join = api.includes('?') ? '&' : '?';
  if (name === 'same-url') return Array.from({ length: options.tabs }, () => api);
  if (name === 'distinct-urls') return Array.from({ length: options.tabs }, (_, i) => `${api}${join}tab=${i + 1}`);
  return Array.from({ length: options.fetches }, (_, i) => `${api}${join}fetch=${i + 1}`);
}

/** Every scenario against one target, in order. */
async function runScenarios(run: Run, base: URL): Promise<ScenarioFacts[]> {
  const facts: ScenarioFacts[] = [];
  for (const name of run.options.scenarios) {
    run.observer.onScenarioStart?.(name, name === 'fetch-burst' ? run.options.fetches : run.options.tabs);
    const urls = scenarioUrls(name, run.options, base);
    const raw = await run.untilInterrupted(
      name === 'fetch-burst' ? recordFetchBurst(run, routeUrl(base, '/'), urls) : name === 'websocket' ? recordWebSockets(run, routeUrl(base, '/'), urls) : recordTabs(run, urls),
    );
    const result = summarizeScenario(name, toBrowserRequests(urls, raw));
    run.observer.onScenarioDone?.(result);
    facts.push(result);
  }
  return facts;
}

/** Rejects with BrowserInterrupted once the signal fires: every wait races it, so Ctrl-C ends any step. */
function interruption(signal: AbortSignal | undefined): <T>(work: Promise<T>) => Promise<T> {
  const interrupted = new Promise<never>((_, reject) => {
    if (signal?.aborted) reject(new BrowserInterrupted());
    signal?.addEventListener('abort', () => reject(new BrowserInterrupted()), { once: true });
  });
  interrupted.catch(() => undefined);
  return (work) => Promise.race([work, interrupted]);
}

export async function runBrowserExperiment(options: BrowserOptions, observer: BrowserObserver = {}): Promise<BrowserResult> {
  const started = Date.now();
  // Find the browser (and the optional playwright-core) before booting anything: a missing one is the commonest failure.
  const found = findBrowser(options.browserPath, options.env);
  await loadPlaywright();
  const untilInterrupted = interruption(options.signal);
  const protocols = options.url ? [] : (options.protocols ?? ['http/1.1']);
  // HTTP/2 in-process: the certificate is made first, so the browser trusts exactly it from its start.
  const tls: TlsMaterial | undefined = protocols.includes('h2') ? await selfSignedCertificate() : undefined;
  const trusted = tls?.cert ?? options.ca;
  const trust = trusted ? [describeCertificate(trusted, true).spkiSha256] : [];
  // Kept as promises: a start still under way when Ctrl-C comes is waited for in `finally`, then stopped.
  const booting: Array<Promise<RunningCluster>> = [];
  const launching = launchBrowser(found.path, options.headed, trust);
  launching.catch(() => undefined); // handled below, once the target is up; never an unhandled rejection
  try {
    const facts: ScenarioFacts[] = [];
    let cluster: RunningCluster | undefined;
    if (options.url) {
      await untilInterrupted(checkReachable(options.url, 5000, { insecure: options.insecure, ca: options.ca }));
      const launched = await untilInterrupted(launching);
      observer.onStart?.({ target: options.url.href, browser: `${launched.name} ${launched.version}`, protocol: options.url.protocol === 'https:' ? 'https' : 'http/1.1' });
      facts.push(...(await runScenarios({ launched, options, untilInterrupted, observer }, options.url)));
    }
    for (const protocol of protocols) {
      // The browser starts while the first cluster boots: both take about a second.
      const { app } = options;
      const boot = startCluster({
        port: 0,
        host: '127.0.0.1',
        workers: options.workers,
        sched: options.sched,
        protocol: protocol === 'h2' ? 'h2' : 'http',
        tls,
        signal: options.signal,
        app: app && { entry: app.entry, args: app.args, cwd: app.cwd, stdout: 'stderr' },
        readyTimeoutMs: app?.listenTimeoutMs,
      });
      booting.push(boot);
      cluster = await untilInterrupted(boot);
      const launched = await untilInterrupted(launching);
      observer.onStart?.({ target: cluster.url, browser: `${launched.name} ${launched.version}`, protocol });
      facts.push(...(await runScenarios({ launched, options, untilInterrupted, observer }, new URL(cluster.url))));
      await cluster.stop();
    }
    const launched = await launching;
    const workers = options.url ? null : options.workers;
    // A WebSocket scenario is compared with the same-URL tabs of its own run (the last before it).
    const sameUrlBefore = (i: number) => facts.slice(0, i).filter((d) => d.name === 'same-url').at(-1);
    const scenarios = facts.map((s, i) => ({ ...s, verdict: scenarioVerdict(s, workers, facts.find((d) => d.name === 'distinct-urls' && d.protocol === s.protocol), sameUrlBefore(i)) }));
    return {
      target: options.url ? options.url.href : (cluster?.url ?? ''),
      inProcess: !options.url,
      workers,
      policy: cluster ? cluster.policy : null,
      n: options.n,
      protocols: options.url ? [...new Set(facts.flatMap((s) => (s.protocol ? [s.protocol] : [])))] : protocols,
      browser: { name: launched.name, version: launched.version, path: launched.path, headless: !options.headed },
      scenarios,
      conclusion: browserConclusion(facts),
      allOk: facts.every((s) => s.failed === 0),
      durationMs: Date.now() - started,
    };
  } finally {
    // The browser first (its open keep-alive connections would otherwise hold the workers' drain), then
    // every cluster it may have booted.
    const launched = await launching.catch(() => undefined);
    if (launched) await closeBrowser(launched);
    for (const boot of booting) await (await boot.catch(() => undefined))?.stop().catch(() => undefined);
  }
}
