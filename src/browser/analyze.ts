/**
 * From the browser's raw DevTools records to the facts a scenario reports: per request, how long it was
 * queued before it was sent, when it ran, on which connection and which PID answered; per scenario, the
 * distinct PIDs and connections and whether the requests ran one after another. Pure.
 */
import type { RawBrowserRequest } from './driver.js';
export { requestsPerPid } from '../statistics/per-pid.js';

export type ScenarioName = 'same-url' | 'distinct-urls' | 'fetch-burst' | 'websocket';
export const SCENARIO_NAMES: readonly ScenarioName[] = ['same-url', 'distinct-urls', 'fetch-burst', 'websocket'];

export interface BrowserRequest {
  /** 1-based: tab 1…n, or fetch 1…n, in the order the page asked for them. */
  index: number;
  url: string;
  pid: number | null;
  status: number | null;
  connectionId: number | null;
  connectionReused: boolean | null;
  /** The protocol the browser used for it: 'http/1.1', 'h2'… (null: no response). */
  protocol: string | null;
  /** x-hostname and x-primary-pid, when the server sends them (ours does). */
  host: string | null;
  primaryPid: number | null;
  /** From the page asking for it to its bytes being sent, ms. */
  queuedMs: number | null;
  /** When it was sent, ms after the scenario's first request was asked for. */
  startedMs: number | null;
  /** When its response's headers arrived, on the same clock. */
  respondedMs: number | null;
  /** When its response ended, on the same clock. */
  endedMs: number | null;
  /** The browser's error text (e.g. net::ERR_CONNECTION_RESET), or "HTTP 500"; null when it succeeded. */
  error: string | null;
}

export interface ScenarioFacts {
  name: ScenarioName;
  /** The protocol the responses came over: 'http/1.1', 'h2', 'mixed', or null when none came. */
  protocol: string | null;
  requests: BrowserRequest[];
  /** Distinct PIDs that answered, ascending. */
  pids: number[];
  /** Distinct connection ids that carried the requests, in order of first use. */
  connections: number[];
  /** Every request after the first was sent only after the previous one's response had arrived. */
  serialized: boolean;
  failed: number;
  /** From the first request asked for to the last one ended, ms. */
  durationMs: number;
}

/**
 * "Sent" and "headers arrived" come from the same DevTools timing record and never overlapped by more than a
 * millisecond here, while "ended" (loadingFinished) is stamped later, by another process: a request sent as
 * soon as the previous response arrived can read up to ~5 ms before that one "ended" (more on a loaded machine).
 * So serialization (Chromium's cache lock lets the next request go once the headers are in) is judged against the
 * previous response's arrival, with this much slack; whether the requests also ran without overlapping, as the
 * printed "sent at" and "ended at" show it, is overlapsPrevious's question.
 */
export const SERIAL_TOLERANCE_MS = 5;

const round1 = (ms: number) => Math.round(ms * 10) / 10;

export function toBrowserRequests(urls: readonly string[], raw: ReadonlyArray<RawBrowserRequest | undefined>): BrowserRequest[] {
  const created = raw.flatMap((r) => (r ? [r.createdS] : []));
  const originS = created.length ? Math.min(...created) : 0;
  const at = (s: number | null) => (s === null ? null : round1((s - originS) * 1000));
  return urls.map((url, i) => {
    const r = raw[i];
    if (!r) {
      return { index: i + 1, url, pid: null, status: null, connectionId: null, connectionReused: null, protocol: null, host: null, primaryPid: null, queuedMs: null, startedMs: null, respondedMs: null, endedMs: null, error: 'never requested by the browser' };
    }
    const error = r.error ?? (r.status !== null && r.status >= 400 ? `HTTP ${r.status}` : r.status === null ? 'no response' : null);
    return {
      index: i + 1,
      url,
      pid: r.pid,
      status: r.status,
      connectionId: r.connectionId,
      connectionReused: r.connectionReused,
      protocol: r.protocol,
      host: r.host,
      primaryPid: r.primaryPid,
      // A WebSocket's DevTools record has no moment of asking apart from its sending: no queueing to show.
      queuedMs: r.sentS === null || r.protocol === 'websocket' ? null : round1(Math.max(0, (r.sentS - r.createdS) * 1000)),
      startedMs: at(r.sentS),
      respondedMs: at(r.respondedS),
      endedMs: at(r.endedS),
      error,
    };
  });
}

/** True when, in order of sending, each request went out only after the previous one's response (2 or more). */
export function isSerialized(requests: readonly BrowserRequest[]): boolean {
  const doneAt = (r: BrowserRequest) => r.respondedMs ?? r.endedMs;
  const sent = requests.filter((r) => r.startedMs !== null && doneAt(r) !== null).sort((a, b) => a.startedMs! - b.startedMs!);
  if (sent.length < 2 || sent.length < requests.length) return false;
  return sent.every((r, i) => i === 0 || r.startedMs! >= doneAt(sent[i - 1]!)! - SERIAL_TOLERANCE_MS);
}

/**
 * True when, in order of sending, some request went out well before the previous one ended (by more than a
 * quarter of that one's time): its headers were in, its body was still coming (HTTP/2 seen: sent at 931 ms, the
 * previous one ended at 1.55 s). A verdict must not call such requests "one after another".
 */
export function overlapsPrevious(requests: readonly BrowserRequest[]): boolean {
  const sent = requests.filter((r) => r.startedMs !== null && r.endedMs !== null).sort((a, b) => a.startedMs! - b.startedMs!);
  return sent.some((r, i) => {
    const previous = sent[i - 1];
    if (!previous) return false;
    const slack = Math.max(SERIAL_TOLERANCE_MS, (previous.endedMs! - previous.startedMs!) / 4);
    return r.startedMs! < previous.endedMs! - slack;
  });
}

export function summarizeScenario(name: ScenarioName, requests: BrowserRequest[]): ScenarioFacts {
  const pids = [...new Set(requests.flatMap((r) => (r.pid === null || r.error ? [] : [r.pid])))].sort((a, b) => a - b);
  const byStart = [...requests].sort((a, b) => (a.startedMs ?? Infinity) - (b.startedMs ?? Infinity));
  const connections = [...new Set(byStart.flatMap((r) => (r.connectionId === null ? [] : [r.connectionId])))];
  const ends = requests.flatMap((r) => (r.endedMs === null ? [] : [r.endedMs]));
  const protocols = new Set(requests.flatMap((r) => (r.protocol ? [r.protocol] : [])));
  return {
    name,
    protocol: protocols.size === 0 ? null : protocols.size === 1 ? [...protocols][0]! : 'mixed',
    requests,
    pids,
    connections,
    serialized: isSerialized(requests),
    failed: requests.filter((r) => r.error !== null).length,
    durationMs: ends.length ? round1(Math.max(...ends)) : 0,
  };
}

/**
 * Requests that had to wait for a connection another request of the same scenario was using: sent on a
 * connection that had already carried one of them. With n requests over k connections that is n − k.
 */
export function waitedForConnection(requests: readonly BrowserRequest[]): BrowserRequest[] {
  const seen = new Set<number>();
  const waited: BrowserRequest[] = [];
  for (const r of [...requests].sort((a, b) => (a.startedMs ?? Infinity) - (b.startedMs ?? Infinity))) {
    if (r.connectionId === null) continue;
    if (seen.has(r.connectionId)) waited.push(r);
    seen.add(r.connectionId);
  }
  return waited;
}
