/**
 * The real browser, driven through playwright-core (never a downloaded browser: it launches the executable
 * found by find.ts). Per-request facts come from the DevTools protocol's Network domain, as DevTools itself
 * shows them: which connection carried the request, whether it was reused, and when it was really sent.
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import cluster from 'node:cluster';
import { ExpectedError } from '../core/errors.js';
import { childPids, descendantPids, waitForExit } from '../external/process-tree.js';
import { pidFromBody } from '../load/response-parser.js';

/**
 * Chromium runs as root on CI machines (so no sandbox) and with no network beyond loopback: without these it
 * keeps trying to reach Google's services, which adds noise and connections of its own. QUIC is off so that
 * every request is the HTTP/1.1 the cluster serves. playwright-core adds --headless (unless --headed) and a
 * fresh --user-data-dir in a temporary directory that it removes on close.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

/** One request as the browser saw it, with the DevTools protocol's raw timestamps (seconds, monotonic). */
export interface RawBrowserRequest {
  url: string;
  /** When the page asked for it (Network.requestWillBeSent). */
  createdS: number;
  /** When its bytes were sent (timing.requestTime + sendStart); null if it never was. */
  sentS: number | null;
  /** When the response's headers arrived (timing.requestTime + receiveHeadersEnd). */
  respondedS: number | null;
  /** When the response (or the failure) ended. */
  endedS: number | null;
  status: number | null;
  connectionId: number | null;
  connectionReused: boolean | null;
  /** The protocol DevTools reports for the response: 'http/1.1', 'h2', … */
  protocol: string | null;
  pid: number | null;
  /** x-hostname and x-primary-pid: which host, and which cluster on it (several behind a balancer). */
  host: string | null;
  primaryPid: number | null;
  error: string | null;
}

export interface LaunchedBrowser {
  name: string;
  version: string;
  path: string;
  browser: Browser;
  /** The browser's own processes started by this launch (children of this process): waited for on close. */
  processes: number[];
}

/**
 * Closes the browser and returns once every process it started has exited, not only its main process.
 * playwright-core runs Chromium as a child of this process: its helpers are our descendants until it exits.
 */
export async function closeBrowser(launched: LaunchedBrowser): Promise<void> {
  const helpers = launched.processes.flatMap((pid) => [pid, ...descendantPids(pid)]);
  await launched.browser.close().catch(() => undefined);
  await waitForExit(helpers);
}

/** Children of this process, less the cluster's workers (a cluster may boot while the browser starts). */
function childProcesses(): number[] {
  const workers = ownWorkers();
  return childPids(process.pid).filter((pid) => !workers.has(pid));
}

function ownWorkers(): Set<number> {
  return new Set(Object.values(cluster.workers ?? {}).flatMap((worker) => (worker?.process.pid ? [worker.process.pid] : [])));
}

/**
 * playwright-core (14 MB) is an optional dependency: only `browser` (and `fleet --browser`) drive a browser, so an
 * install without it (`npm install --omit=optional`) runs every other command, and these say what to add.
 */
export async function loadPlaywright(): Promise<typeof import('playwright-core')> {
  try {
    return await import('playwright-core');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new ExpectedError('the browser commands drive Chromium through playwright-core, an optional dependency that is not installed; add it with: npm install playwright-core');
  }
}

/**
 * `trustSpki`: base64 SHA-256 of the public key of the one certificate to accept (the in-process cluster's or
 * fleet's self-signed one), through --ignore-certificate-errors-spki-list: narrower than ignoring every error.
 */
export async function launchBrowser(executablePath: string, headed: boolean, trustSpki: string[] = []): Promise<LaunchedBrowser> {
  const { chromium } = await loadPlaywright();
  try {
    const before = new Set(childProcesses());
    // The caller owns Ctrl-C (it stops the browser and the cluster in order), so playwright must not.
    const browser = await chromium.launch({
      executablePath,
      headless: !headed,
      args: trustSpki.length ? [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${trustSpki.join(',')}`] : CHROMIUM_ARGS,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      timeout: 30_000,
    });
    const version = browser.version();
    const processes = childProcesses().filter((pid) => !before.has(pid));
    return { name: /chrome/i.test(executablePath) && !/chromium/i.test(executablePath) ? 'Chrome' : 'Chromium', version, path: executablePath, browser, processes };
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
    throw new ExpectedError(`could not start the browser at ${executablePath}: ${first.replace(/^browserType\.launch:\s*/, '')}`, { cause: err });
  }
}

/** Who answered, from a response's headers (DevTools' names keep the server's case): PID, host, primary. */
function identify(r: RawBrowserRequest, headers: Record<string, string>): void {
  const header = (wanted: string) => Object.entries(headers).find(([name]) => name.toLowerCase() === wanted)?.[1];
  const pid = Number(header('x-worker-pid') ?? NaN);
  if (Number.isSafeInteger(pid) && pid > 0) r.pid = pid;
  r.host = header('x-hostname') ?? null;
  const primary = Number(header('x-primary-pid') ?? NaN);
  r.primaryPid = Number.isSafeInteger(primary) && primary > 0 ? primary : null;
}

/**
 * Records every request of one page through its own DevTools session. The PID comes from `x-worker-pid`,
 * else from the body (the seed's Express app sends no identity header), as in probe.
 */
export class RequestRecorder {
  private readonly byId = new Map<string, RawBrowserRequest>();
  private readonly pending: Array<Promise<void>> = [];
  /**
   * Requests whose outcome is final: loading finished (its body asked for when the PID is not in a header) or
   * failed, a WebSocket greeted or closed. A response's headers are not that: loadingFinished trails them.
   */
  private readonly settled = new WeakSet<RawBrowserRequest>();

  private constructor(private readonly cdp: CDPSession) {}

  static async attach(context: BrowserContext, page: Page): Promise<RequestRecorder> {
    const cdp = await context.newCDPSession(page);
    const recorder = new RequestRecorder(cdp);
    recorder.listen();
    await cdp.send('Network.enable');
    return recorder;
  }

  private listen(): void {
    const { cdp, byId } = this;
    cdp.on('Network.requestWillBeSent', (e) => {
      byId.set(e.requestId, { url: e.request.url, createdS: e.timestamp, sentS: null, respondedS: null, endedS: null, status: null, connectionId: null, connectionReused: null, protocol: null, pid: null, host: null, primaryPid: null, error: null });
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      const { response } = e;
      r.status = response.status;
      r.connectionId = typeof response.connectionId === 'number' ? response.connectionId : null;
      r.connectionReused = response.connectionReused;
      r.protocol = response.protocol ?? null;
      if (response.timing) {
        r.sentS = response.timing.requestTime + response.timing.sendStart / 1000;
        r.respondedS = response.timing.requestTime + response.timing.receiveHeadersEnd / 1000;
      }
      r.endedS = e.timestamp;
      identify(r, response.headers);
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      r.endedS = Math.max(r.endedS ?? 0, e.timestamp);
      if (r.pid === null) this.pending.push(this.pidFromResponseBody(e.requestId, r));
      this.settled.add(r);
    });
    this.listenWebSockets();
    cdp.on('Network.loadingFailed', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      r.endedS = Math.max(r.endedS ?? 0, e.timestamp);
      r.error = e.errorText || 'failed';
      this.settled.add(r);
    });
  }

  /**
   * WebSockets: DevTools reports the handshake (its 101 and headers: the PID) and the frames, but no connection
   * id. A WebSocket never shares its connection; the worker's greeting (long-lived.ts) names the client port it
   * saw, which stands for the connection here (distinct ports, distinct connections).
   */
  private listenWebSockets(): void {
    const { cdp, byId } = this;
    cdp.on('Network.webSocketCreated', (e) => {
      byId.set(e.requestId, { url: e.url, createdS: 0, sentS: null, respondedS: null, endedS: null, status: null, connectionId: null, connectionReused: false, protocol: 'websocket', pid: null, host: null, primaryPid: null, error: null });
    });
    cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      r.createdS = e.timestamp;
      r.sentS = e.timestamp;
    });
    cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      r.status = e.response.status;
      r.respondedS = e.timestamp;
      identify(r, e.response.headers);
    });
    cdp.on('Network.webSocketFrameReceived', (e) => {
      const r = byId.get(e.requestId);
      if (!r || r.endedS !== null) return;
      // The greeting: the worker's PID and the client port it saw (the connection).
      try {
        const hello = JSON.parse(e.response.payloadData) as { type?: string; pid?: number; remotePort?: number };
        if (hello.type !== 'hello') return;
        if (r.pid === null && typeof hello.pid === 'number') r.pid = hello.pid;
        if (typeof hello.remotePort === 'number') r.connectionId = hello.remotePort;
        r.endedS = e.timestamp;
        this.settled.add(r);
      } catch {
        // Not ours: the socket still counts, with no greeting.
      }
    });
    cdp.on('Network.webSocketFrameError', (e) => {
      const r = byId.get(e.requestId);
      if (r) r.error = e.errorMessage || 'WebSocket frame error';
    });
    cdp.on('Network.webSocketClosed', (e) => {
      const r = byId.get(e.requestId);
      if (!r) return;
      r.endedS ??= e.timestamp;
      if (r.status === null) r.error ??= 'closed before its handshake';
      this.settled.add(r);
    });
  }

  private async pidFromResponseBody(requestId: string, r: RawBrowserRequest): Promise<void> {
    try {
      const { body, base64Encoded } = await this.cdp.send('Network.getResponseBody', { requestId });
      r.pid = pidFromBody(base64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body) ?? null;
    } catch {
      // The body is gone (page closed, or never kept): the PID stays unknown, and the report says so.
    }
  }

  /**
   * The requests for exactly these URLs (not the favicon or anything else the page loaded), in URL order.
   * DevTools events arrive on their own channel, so the last ones may trail the page's own promise: wait
   * (bounded) until each has settled, not only had its headers (a PID in the body is read once loading finished).
   */
  async requestsFor(urls: readonly string[], waitMs = 2_000): Promise<Array<RawBrowserRequest | undefined>> {
    const find = () => {
      const all = [...this.byId.values()];
      return urls.map((url) => all.find((r) => r.url === url));
    };
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline && find().some((r) => r === undefined || !this.settled.has(r))) await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.all(this.pending);
    return find();
  }
}
