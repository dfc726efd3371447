import http from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import os from 'node:os';
import type { CountedRoute } from './counts/document.js';
import { DASHBOARD_COOKIE, type StatsRoutes } from './counts/endpoints.js';
import type { RequestCounter } from './counts/worker-stats.js';
import type { LongLived } from './long-lived.js';
import { parseN, sumTo } from './sum.js';

/** Who served a response: sent on every response as headers, so a load generator never parses bodies. */
export interface ServerIdentity {
  pid: number;
  /** cluster.worker.id, or 0 for a process that is not a cluster worker. */
  workerId: number;
  /** The primary's pid, or the process's own pid when there is no cluster. */
  primaryPid: number;
  hostname: string;
}

export interface HandlerOptions {
  identity: ServerIdentity;
  /** Larger n are clamped to this (the seed's 5000000000). */
  maxN: number;
  /** Called per request; true once the process is shutting down, so responses close their connection. */
  isShuttingDown?: () => boolean;
  /** Counts every response by route and status class (stats on). */
  counter?: RequestCounter;
  /** Answers /_cluster/*, /metrics and /dashboard (stats endpoints on); otherwise they are 404s. */
  statsRoutes?: StatsRoutes;
  /** Answers /sse (an event stream); /ws is its upgrade (demo-server.ts). */
  longLived?: LongLived;
}

export const DEFAULT_MAX_N = 5_000_000_000;

/** `name`: what this instance calls itself in x-hostname (several instances on one machine), else the OS's. */
export function currentIdentity(workerId: number, primaryPid: number, name?: string): ServerIdentity {
  return { pid: process.pid, workerId, primaryPid, hostname: name ?? os.hostname() };
}

interface Reply {
  status: number;
  text: string;
  json: Record<string, unknown>;
  extraHeaders?: Record<string, string>;
  /** Which counter it bumps (stats/document.ts). */
  counted: CountedRoute;
}

/** A request and its response, over HTTP/1.1 (http, https) or HTTP/2 (node:http2's compatibility API). */
export type DemoRequest = http.IncomingMessage | Http2ServerRequest;
/** What the handlers use of a response; http's and http2's both have it. */
export interface DemoResponse {
  writeHead(status: number, headers: http.OutgoingHttpHeaders): unknown;
  write(chunk: string): boolean;
  end(body?: string): unknown;
  readonly writableFinished: boolean;
}
export type DemoListener = (req: DemoRequest, res: DemoResponse) => void;

function wantsJson(req: DemoRequest): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('application/json');
}

/** The seed's three routes with exact sums, input validation and 404/405; the body as text and as JSON. */
function demoRoute(method: string, path: string, identity: ServerIdentity, maxN: number, who: Record<string, unknown>): Reply {
  const counted: CountedRoute = path === '/' ? '/' : path === '/pid' ? '/pid' : path.startsWith('/api/') ? '/api/:n' : 'other';
  if (counted !== 'other' && method !== 'GET' && method !== 'HEAD') {
    return { status: 405, text: `method ${method} not allowed: use GET or HEAD`, json: { error: `method ${method} not allowed`, allow: ['GET', 'HEAD'], ...who }, extraHeaders: { allow: 'GET, HEAD' }, counted };
  }
  if (counted === '/') return { status: 200, text: 'Hello World!', json: { message: 'Hello World!', ...who }, counted };
  if (counted === '/pid') return { status: 200, text: `Which PID handled this process: ${identity.pid}`, json: { ...who }, counted };
  if (counted === '/api/:n') {
    const parsed = parseN(path.slice('/api/'.length), maxN);
    if (!parsed.ok) return { status: 400, text: parsed.reason, json: { error: parsed.reason, ...who }, counted };
    const count = sumTo(parsed.n).toString();
    const note = parsed.clamped ? ` (n clamped from ${parsed.requested} to ${parsed.n} by --max-n)` : '';
    // count is a string: sums past 2^53 do not survive JSON numbers.
    return { status: 200, text: `Final count is ${count} at pid: ${identity.pid}${note}`, json: { n: parsed.n, count, clamped: parsed.clamped, requested: parsed.requested, ...who }, counted };
  }
  const routes = ['/', '/pid', '/api/:n', '/ws', '/sse'];
  return { status: 404, text: `not found: ${path.length > 80 ? `${path.slice(0, 80)}…` : path} (routes: ${routes.join(', ')})`, json: { error: 'not found', routes, ...who }, counted };
}

/** GET /ws without an upgrade: what it is and how to open it. */
function upgradeRequired(who: Record<string, unknown>): Reply {
  const text = '/ws is a WebSocket: connect with a WebSocket client (ws://host:port/ws), or try `cluster-demo probe --ws`';
  return { status: 426, text, json: { error: text, ...who }, counted: 'other' };
}

/** Who served a JSON reply, and over which connection (the client's address and port as this worker sees them). */
function connectionOf(req: DemoRequest): { remoteAddress: string | undefined; remotePort: number | undefined; httpVersion: string } {
  return { remoteAddress: req.socket?.remoteAddress, remotePort: req.socket?.remotePort, httpVersion: req.httpVersion };
}

/**
 * The seed's three routes, plus the things the seed left out: exact sums, input validation, 404/405, headers
 * that say which process answered, and (with `stats`) the cluster's own view at /_cluster/*, /metrics and
 * /dashboard.
 */
export function createRequestHandler(options: HandlerOptions): DemoListener {
  const { identity, maxN, counter, statsRoutes, longLived } = options;
  const isShuttingDown = options.isShuttingDown ?? (() => false);
  const who = { pid: identity.pid, workerId: identity.workerId, primaryPid: identity.primaryPid, hostname: identity.hostname };
  // Built once: these headers are identical on every response of this process.
  const identityHeaders: Record<string, string> = {
    'x-worker-pid': String(identity.pid),
    'x-worker-id': String(identity.workerId),
    'x-primary-pid': String(identity.primaryPid),
    'x-hostname': identity.hostname,
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (statsRoutes?.handles(path)) return statsRoutes.serve(req, res, path, identityHeaders);
    // A stream, not a request: counted with the long-lived connections, never in the routes' counts.
    if (path === '/sse' && longLived && (req.method === 'GET' || req.method === undefined)) return longLived.sse(req, res, identityHeaders);
    const reply = path === '/ws' && longLived ? upgradeRequired(who) : demoRoute(req.method ?? 'GET', path, identity, maxN, who);
    counter?.count(reply.counted, reply.status);
    const json = wantsJson(req);
    const body = json ? JSON.stringify({ ...reply.json, connection: connectionOf(req) }) : reply.text;
    const headers: Record<string, string | number> = {
      'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...identityHeaders,
      ...reply.extraHeaders,
    };
    // During a graceful shutdown each HTTP/1.1 response closes its connection, so keep-alive clients reconnect
    // to a worker that is staying. (HTTP/2 forbids the header: its sessions get a GOAWAY instead.)
    if (isShuttingDown() && req.httpVersionMajor < 2) headers.connection = 'close';
    // A browser that opened the dashboard (its session cookie) learns which connection carried each response:
    // Server-Timing is readable from the page's Resource Timing, for frames too. Load generators pay nothing.
    if (statsRoutes && req.headers.cookie?.includes(DASHBOARD_COOKIE)) headers['server-timing'] = `conn;desc="${req.socket?.remoteAddress}:${req.socket?.remotePort}"`;
    res.writeHead(reply.status, headers);
    res.end(body);
  };
}
