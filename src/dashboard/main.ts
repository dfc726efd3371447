/**
 * The dashboard's script (GET /dashboard), run by the browser. Bundled by scripts/build-dashboard.mjs into the
 * page itself (one self-contained file, no CDN) from the same modules the CLI uses: the browser verdicts
 * (browser/analyze.ts, browser/verdict.ts: `isSerialized` and its tolerance, the wording), the lifecycle wording
 * (report/cluster-log.ts), the PID read from a body (load/response-parser.ts) and the number formats. Type-checked
 * with the rest (src/dashboard/tsconfig.json: the DOM's types).
 *
 * It only draws what the primary counted: /_cluster/events pushes the stats document every second and each
 * lifecycle event as it happens. The experiments load /api/n from this page and judge them as `browser` does.
 */
import { summarizeScenario, type BrowserRequest, type ScenarioName } from '../browser/analyze.js';
import { scenarioVerdict } from '../browser/verdict.js';
import type { ClusterEvent } from '../cluster/cluster-api.js';
import type { ClusterStatsDoc, WorkerStats } from '../cluster/counts/document.js';
import { pidFromBody } from '../load/pid-from-body.js';
import { formatClusterEvent } from '../report/cluster-log.js';
import { formatInt } from '../report/format.js';

interface ServedBy {
  pid: number;
  workerId: number;
  remoteAddress: string | null;
  remotePort: number | null;
  httpVersion: string;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const SCENARIOS: readonly ScenarioName[] = ['same-url', 'distinct-urls', 'fetch-burst'];

const served = JSON.parse($('served-by').textContent ?? '{}') as { servedBy: ServedBy | null; app?: { origin: string } | null };
const { servedBy } = served;
/**
 * A user's app (`serve --app`): this page comes from the primary's stats port, and the experiments go to the
 * app's origin, with fetch() (a frame of another origin cannot be read); the agent lets this origin read the
 * identity headers and the connection (CORS, Timing-Allow-Origin).
 */
const app = served.app ?? null;
if (app) {
  $('n-label').hidden = true;
  $('path-label').hidden = false;
  $('try-what').textContent = `Each button fetches a path of your app (${app.origin}) from this page, the same URL N times, N distinct URLs, or 12 at once, and shows which worker answered each (its x-worker-pid), and over which connection.`;
}
if (servedBy) {
  $('served-pid').textContent = String(servedBy.pid);
  $('served-id').textContent = String(servedBy.workerId);
  $('served-conn').textContent = `${servedBy.remoteAddress}:${servedBy.remotePort} (HTTP/${servedBy.httpVersion})`;
}

const fmtMB = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const fmtDur = (ms: number) => (ms >= 3600000 ? `${(ms / 3600000).toFixed(1)} h` : ms >= 60000 ? `${(ms / 60000).toFixed(1)} min` : `${(ms / 1000).toFixed(0)} s`);
const RATE_WINDOW_MS = 5000;
/** pid → recent [time, requests] samples, for req/s over the last seconds. */
const history = new Map<number, Array<[number, number]>>();
/** Live workers in the last snapshot: the verdicts say "1 PID of 2 workers" as `browser` does. */
let liveWorkers: number | null = null;

function rate(pid: number, requests: number, now: number): number {
  const samples = history.get(pid) ?? [];
  samples.push([now, requests]);
  while (samples.length > 2 && now - samples[0]![0] > RATE_WINDOW_MS) samples.shift();
  history.set(pid, samples);
  const [t0, r0] = samples[0]!;
  return now > t0 ? ((requests - r0) * 1000) / (now - t0) : 0;
}

function stateText(w: WorkerStats): string {
  if (w.state !== 'exited') return w.reportAgeMs !== null && w.reportAgeMs > 1500 && w.state === 'listening' ? `busy (${(w.reportAgeMs / 1000).toFixed(1)} s)` : w.state;
  return `exited (${w.exit?.signal ?? `code ${w.exit?.code}`})`;
}

function cell(text: string, cls?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  return td;
}

function track(percent: number): HTMLDivElement {
  const outer = document.createElement('div');
  outer.className = 'track';
  const fill = document.createElement('div');
  fill.className = 'fill';
  fill.style.width = `${percent}%`;
  outer.append(fill);
  return outer;
}

function barCell(value: number, max: number): HTMLTableCellElement {
  const td = document.createElement('td');
  const label = document.createElement('span');
  label.className = 'num';
  label.textContent = ` ${formatInt(value)}`;
  td.append(track(max > 0 ? (100 * value) / max : 0), label);
  Object.assign(td.style, { display: 'grid', gridTemplateColumns: '1fr 9ch', alignItems: 'center' });
  return td;
}

function workerRow(w: WorkerStats, max: number, liveTotal: number, now: number): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.pid = String(w.pid);
  tr.dataset.requests = String(w.requests);
  tr.dataset.state = w.state;
  const exited = w.state === 'exited';
  if (exited) tr.className = 'exited';
  tr.append(
    cell(String(w.pid), 'num'),
    cell(stateText(w), 'state'),
    barCell(w.requests, max),
    cell(exited ? '–' : formatInt(rate(w.pid, w.requests, now)), 'n'),
    cell(exited || liveTotal === 0 ? '–' : `${((100 * w.requests) / liveTotal).toFixed(1)}%`, 'n'),
    cell(formatInt(w.connections), 'n'),
    cell(String(w.inFlight), 'n'),
    // Long-lived connections open now: pinned to this worker for as long as they live.
    cell(exited || !w.longLived ? '–' : `${formatInt(w.longLived.ws.open)} / ${formatInt(w.longLived.sse.open)}`, 'n'),
    cell(exited ? '–' : w.elu.toFixed(2), 'n'),
    cell(exited ? '–' : fmtMB(w.rssBytes), 'n'),
    cell(String(w.restarts), 'n'),
  );
  return tr;
}

function drawSnapshot(doc: ClusterStatsDoc): void {
  $('host').textContent = doc.hostname;
  $('primary').textContent = String(doc.primaryPid);
  $('policy').textContent = doc.policy;
  $('uptime').textContent = fmtDur(doc.uptimeMs);
  const live = doc.workers.filter((w) => w.state !== 'exited');
  liveWorkers = live.length;
  const liveTotal = live.reduce((s, w) => s + w.requests, 0);
  $('totals').textContent = `· ${formatInt(doc.totals.requests)} requests, ${formatInt(doc.totals.connections)} connections since start`;
  const max = Math.max(0, ...doc.workers.map((w) => w.requests));
  const now = Date.now();
  document.querySelector('#workers tbody')!.replaceChildren(...doc.workers.map((w) => workerRow(w, max, liveTotal, now)));
  $('events').replaceChildren(...doc.events.slice(-12).reverse().flatMap(eventItems));
}

/** An event in serve's own words (the lines its log prints); events serve does not print are not listed. */
function eventItems(e: ClusterEvent): HTMLLIElement[] {
  return formatClusterEvent(e).map((line) => {
    const li = document.createElement('li');
    li.textContent = `${new Date(e.at).toLocaleTimeString()} · ${line}`;
    li.dataset.type = e.type;
    return li;
  });
}

function connect(): void {
  const source = new EventSource('/_cluster/events');
  source.addEventListener('open', () => ($('status').textContent = 'live'));
  source.addEventListener('error', () => ($('status').textContent = 'reconnecting…'));
  source.addEventListener('snapshot', (m) => drawSnapshot(JSON.parse((m as MessageEvent<string>).data) as ClusterStatsDoc));
  source.addEventListener('lifecycle', (m) => $('events').prepend(...eventItems(JSON.parse((m as MessageEvent<string>).data) as ClusterEvent)));
}
connect();

// The experiments: what the browser does with N requests to one origin, and which workers met them. Tabs are
// navigations, so "same URL" and "distinct URLs" load hidden iframes (as tabs would: the same cache and
// connection pool); the burst is fetch(). The PID comes from each body; the connection from Server-Timing,
// which the workers add for browsers that opened this page (its session cookie).
document.cookie = 'cluster-demo-dashboard=1; path=/; SameSite=Strict';

function loadInFrame(url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.hidden = true;
    const done = (text: string | null) => {
      clearTimeout(timer);
      frame.remove();
      resolve(text);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    frame.addEventListener('load', () => {
      try {
        done(frame.contentDocument?.body.innerText ?? null);
      } catch {
        done(null); // an error page is not same-origin
      }
    });
    frame.src = url;
    document.body.append(frame);
  });
}

/** Connections (client address:port, as the worker saw them) this page has used: the one that served it first. */
const connectionIds = new Map<string, number>();
if (servedBy) connectionIds.set(`${servedBy.remoteAddress}:${servedBy.remotePort}`, 0);

/**
 * One request as `browser` sees it, from Resource Timing instead of the DevTools protocol: sent at requestStart,
 * headers at responseStart, ended at responseEnd (ms after the scenario began), on the connection Server-Timing
 * names; "reused" when this page had used that connection before.
 */
/** What came back: the body (the demo: its PID is in it) or, from a user's app, the x-worker-pid header; null: nothing. */
type Answer = { body: string | null; pid: number | null } | null;

function toRequest(index: number, url: string, answer: Answer, entry: PerformanceResourceTiming | undefined, origin: number): BrowserRequest {
  const desc = entry?.serverTiming.find((t) => t.name === 'conn')?.description;
  const known = desc !== undefined && connectionIds.has(desc);
  if (desc !== undefined && !known) connectionIds.set(desc, connectionIds.size + 1);
  const at = (t: number | undefined) => (t === undefined || t <= 0 ? null : Math.round((t - origin) * 10) / 10);
  const pid = answer === null ? null : (answer.pid ?? (answer.body === null ? null : (pidFromBody(answer.body) ?? null)));
  const status = entry && 'responseStatus' in entry ? (entry.responseStatus as number) || null : null;
  const protocol = entry?.nextHopProtocol ? (entry.nextHopProtocol === 'http/1.1' ? 'http/1.1' : entry.nextHopProtocol) : null;
  return {
    index,
    url,
    pid,
    status,
    connectionId: desc === undefined ? null : connectionIds.get(desc)!,
    connectionReused: desc === undefined ? null : known,
    protocol,
    host: null,
    primaryPid: null,
    queuedMs: entry && entry.requestStart > 0 ? Math.round((entry.requestStart - entry.startTime) * 10) / 10 : null,
    startedMs: at(entry?.requestStart),
    respondedMs: at(entry?.responseStart),
    endedMs: at(entry?.responseEnd),
    error: pid === null ? (answer === null ? 'no response' : app ? 'no x-worker-pid header' : 'no PID in the body') : status !== null && status >= 400 ? `HTTP ${status}` : null,
  };
}

function setButtons(disabled: boolean): void {
  for (const id of SCENARIOS) $<HTMLButtonElement>(id).disabled = disabled;
}

async function run(kind: ScenarioName): Promise<void> {
  const count = kind === 'fetch-burst' ? 12 : Math.max(1, Math.min(64, Number($<HTMLInputElement>('count').value) || 4));
  const n = Math.max(1, Number($<HTMLInputElement>('n').value) || 300000000);
  const stamp = Date.now();
  const path = $<HTMLInputElement>('path').value.trim() || '/';
  const target = app ? `${app.origin}${path.startsWith('/') ? path : `/${path}`}` : `/api/${n}`;
  const join = target.includes('?') ? '&' : '?';
  const urls = Array.from({ length: count }, (_, i) => (kind === 'same-url' ? `${target}${join}same=${stamp}` : `${target}${join}${kind === 'fetch-burst' ? 'fetch' : 'tab'}=${i + 1}-${stamp}`));
  $('verdict').textContent = `${count} requests under way…`;
  $('result').replaceChildren();
  setButtons(true);
  performance.clearResourceTimings();
  const origin = performance.now();
  try {
    const load = (url: string): Promise<Answer> => {
      if (app) return fetch(url, { mode: 'cors' }).then((r) => ({ body: null, pid: Number(r.headers.get('x-worker-pid')) || null }), () => null);
      if (kind === 'fetch-burst') return fetch(url).then((r) => r.text()).then((body) => ({ body, pid: null }), () => null);
      return loadInFrame(url, 60000).then((body) => (body === null ? null : { body, pid: null }));
    };
    const answers = await Promise.all(urls.map(load));
    const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    // The same URL is loaded N times: its entries are taken in order, one per request.
    const used = new Set<PerformanceResourceTiming>();
    const entryFor = (url: string) => {
      const entry = entries.find((e) => !used.has(e) && e.name.endsWith(url));
      if (entry) used.add(entry);
      return entry;
    };
    const requests = urls.map((url, i) => toRequest(i + 1, url, answers[i] ?? null, entryFor(url), origin));
    const facts = summarizeScenario(kind, requests);
    drawPidBars(requests, count);
    $('verdict').textContent = scenarioVerdict(facts, liveWorkers);
  } finally {
    setButtons(false);
  }
}

function drawPidBars(requests: readonly BrowserRequest[], count: number): void {
  const byPid = new Map<number, number>();
  for (const r of requests) if (r.pid !== null) byPid.set(r.pid, (byPid.get(r.pid) ?? 0) + 1);
  const max = Math.max(1, ...byPid.values());
  const rows = [...byPid].sort((a, b) => a[0] - b[0]).map(([pid, n]) => {
    const row = document.createElement('div');
    row.className = 'pidbar';
    row.dataset.pid = String(pid);
    row.dataset.count = String(n);
    const label = document.createElement('span');
    label.className = 'num';
    label.textContent = `PID ${pid}`;
    const value = document.createElement('span');
    value.className = 'num';
    value.textContent = `${n}/${count}`;
    row.append(label, track((100 * n) / max), value);
    return row;
  });
  $('result').replaceChildren(...rows);
}

for (const id of SCENARIOS) $(id).addEventListener('click', () => void run(id));
