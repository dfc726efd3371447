/**
 * The agent preloaded (`node --require`, or `--import` where Node cannot require an ES module: app-setup.ts) into
 * every worker of a user's app under `serve --app`. The app is the worker's main module and is never edited:
 * everything here comes from outside, through node:diagnostics_channel, plus listeners on the app's own servers
 * for the graceful stop:
 *
 * - identity: every HTTP/1.1 response gets x-worker-pid and x-worker-id, and x-primary-pid and x-hostname when its
 *   request asks (core/identity.ts: our own clients do; the host's name is not told to everyone), set as the
 *   response is created (`http.server.response.created`, Node 22 and later) or as its request starts, before the app's
 *   handler runs (`http.server.request.start`, Node 20);
 * - counts: each finished response by path, status class and method (told late by the drain's connection state:
 *   countResponses), the connections accepted (the drain's listener on each of the app's servers), reported to the
 *   primary in batches like our own worker's;
 * - listening: `tracing:net.server.listen:asyncEnd` tells the primary each address the app listens on (an app
 *   with two servers: both), `…:error` why it could not;
 * - --sched reuseport: each TCP listen gets `reusePort: true`, so every worker binds a socket of its own;
 * - stop: on the primary's `shutdown`, every server the app listens on is drained as our own server is
 *   (drain.ts): stop accepting, finish in-flight responses, close idle keep-alive connections.
 *
 * Limits (docs/your-app.md): HTTP/2 responses (node:http2) carry no identity headers and are not counted by path;
 * a WebSocket upgrade is a connection, not a response; a framework that clears every header on its error path
 * (Koa) sends its error responses without them.
 */
import cluster from 'node:cluster';
import dc from 'node:diagnostics_channel';
import type http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { acceptedConnections, drainServer, noteRequest, settleResponses, trackConnections, unfinishedResponses, type FinishedResponse } from '../cluster/drain.js';
import { APP_CONFIG_ENV, type AppWorkerConfig } from '../cluster/messages.js';
import { WorkerStats } from '../cluster/counts/worker-stats.js';
import { runWorkerLifecycle, sendToPrimary } from '../cluster/worker-lifecycle.js';
import { IDENTITY_REQUEST_HEADER } from '../core/identity.js';
import { AppCounts } from './app-counts.js';

interface HttpMessage {
  request: http.IncomingMessage & { originalUrl?: string };
  response: http.ServerResponse;
}

/** Whether the worker is draining: its HTTP/1.1 responses then close their connections. */
interface Draining {
  now: boolean;
}

/** The counting side (countResponses), told of each response as it is created and of each one finished. */
interface Counting {
  stats: WorkerStats;
  /** A response was created; `tracked`: its connection is tracked (drain.ts), which tells its end late. */
  created(response: http.ServerResponse, tracked: boolean): void;
  finished: FinishedResponse;
  /** A connection was accepted by a tracked server (drain.ts counts it): a report goes out. */
  accepted(): void;
}

/**
 * x-worker-pid and x-worker-id on every response (x-primary-pid and x-hostname too when the request asks for them),
 * set as it is created (before the app's handler runs), and the request noted for the drain and the counts.
 * response.created where the line publishes it (Node 22 and later), request.start on Node 20; once response.created
 * is seen, request.start is left, and Node stops publishing it (one object and one call less per request).
 */
function injectIdentity(config: AppWorkerConfig, workerId: number, draining: Draining, counting: Counting | undefined): void {
  const pid = String(process.pid);
  const id = String(workerId);
  const primaryPid = String(config.primaryPid);
  const hostname = config.name ?? os.hostname();
  const identify = ({ response, request }: HttpMessage): void => {
    const tracked = noteRequest(request, response);
    counting?.created(response, tracked);
    if (response.headersSent) return;
    response.setHeader('x-worker-pid', pid);
    response.setHeader('x-worker-id', id);
    const headers = request.headers;
    if (headers[IDENTITY_REQUEST_HEADER] !== undefined) {
      response.setHeader('x-primary-pid', primaryPid);
      response.setHeader('x-hostname', hostname);
    }
    // The dashboard (another origin: the primary's stats port) reads who answered and over which connection.
    if (config.dashboardOrigin !== undefined && headers.origin === config.dashboardOrigin) {
      response.setHeader('access-control-allow-origin', config.dashboardOrigin);
      response.setHeader('access-control-expose-headers', 'x-worker-pid, x-worker-id');
      response.setHeader('timing-allow-origin', config.dashboardOrigin);
      response.setHeader('server-timing', `conn;desc="${request.socket.remoteAddress}:${request.socket.remotePort}"`);
    }
    // Draining: each HTTP/1.1 response closes its connection, so keep-alive clients reconnect to a worker that stays.
    if (draining.now) response.setHeader('connection', 'close');
  };
  const onRequestStart = (message: unknown): void => identify(message as HttpMessage);
  let created = false;
  dc.subscribe('http.server.response.created', (message) => {
    if (!created) {
      created = true;
      dc.unsubscribe('http.server.request.start', onRequestStart);
    }
    identify(message as HttpMessage);
  });
  dc.subscribe('http.server.request.start', onRequestStart);
}

/**
 * Each finished response by path, status class and method, and each connection, reported like our worker's. A
 * response is counted once it is finished (as Node's response.finish would publish it), but told late, from the
 * connection state the drain keeps anyway: when the next request on its connection comes, when the connection
 * closes, or before a report (settleResponses). So a response costs no channel message and no call of its own
 * (bench row 9 measured that subscription at ~3% of a small Express route). A response whose server is not
 * tracked is counted on its own 'finish'.
 */
function countResponses(servers: Set<net.Server>): Counting {
  const counts = new AppCounts();
  const count: FinishedResponse = (response) => {
    const request = response.req as HttpMessage['request'];
    counts.record(request.method, request.originalUrl ?? request.url, response.statusCode);
  };
  const stats = new WorkerStats(sendToPrimary, {
    connections: () => sum(servers, acceptedConnections),
    inFlight: () => sum(servers, (server) => unfinishedResponses(server, () => false)),
  }, {
    get total() {
      return counts.total;
    },
    snapshot: () => counts.snapshot(),
    settle: () => servers.forEach(settleResponses),
  });
  return {
    stats,
    accepted: () => stats.touch(),
    created(response, tracked) {
      stats.touch();
      if (!tracked) response.once('finish', () => count(response));
    },
    finished: count,
  };
}

/**
 * Where the app asks to listen and where it listens (each server: an app with two reports both), tracked for the
 * drain; why it could not.
 */
function reportListens(config: AppWorkerConfig, servers: Set<net.Server>, counting: Counting | undefined): void {
  const tried = new WeakMap<net.Server, { host?: string; port?: number }>();
  dc.subscribe('tracing:net.server.listen:asyncStart', (message) => {
    const { server, options } = message as { server: net.Server; options?: { host?: string | null; port?: number; reusePort?: boolean } };
    tried.set(server, { host: options?.host ?? undefined, port: options?.port });
    // --sched reuseport: the listen's own options, as published, gain reusePort (Node ≥ 22.12 reads them after
    // this channel). Under Node's public API: the primary counts the listening sockets once every worker listens,
    // and says so in one line if this line of Node did not take it (primary.ts, checkReusePort).
    if (config.reusePort && options && typeof options.port === 'number' && options.port !== 0) options.reusePort = true;
    if (servers.has(server)) return;
    sendToPrimary({ type: 'listen-started', pid: process.pid, host: options?.host ?? undefined, port: options?.port });
    servers.add(server);
    trackConnections(server, server instanceof tls.Server, { requests: 'noted', finished: counting?.finished, accepted: counting?.accepted });
    server.once('close', () => servers.delete(server));
  });
  dc.subscribe('tracing:net.server.listen:asyncEnd', (message) => {
    const { server } = message as { server: net.Server };
    const address = server.address();
    if (address === null) return;
    counting?.stats.start();
    if (typeof address === 'string') sendToPrimary({ type: 'listening', pid: process.pid, host: address, port: 0 });
    else sendToPrimary({ type: 'listening', pid: process.pid, host: address.address, port: address.port, askedPort: tried.get(server)?.port });
  });
  const listenFailed = (error: NodeJS.ErrnoException & { address?: string; port?: number }, where: { host?: string; port?: number } = {}) =>
    sendToPrimary({ type: 'listen-failed', pid: process.pid, code: error.code ?? 'UNKNOWN', message: error.message, host: error.address ?? where.host, port: error.port ?? where.port });
  dc.subscribe('tracing:net.server.listen:error', (message) => {
    const { server, error } = message as { server: net.Server; error: NodeJS.ErrnoException };
    listenFailed(error, tried.get(server));
  });
  // Under cluster a bind that fails in the primary (a busy port) reaches the worker's server as an 'error' event,
  // which no channel publishes; left unhandled by the app, it ends the worker. A monitor sees it without
  // handling it (the app's behaviour is unchanged), and the primary says it in one line.
  process.on('uncaughtExceptionMonitor', (error: NodeJS.ErrnoException) => {
    if (error.syscall === 'bind' || error.syscall === 'listen') listenFailed(error);
  });
}

function install(config: AppWorkerConfig, workerId: number): void {
  const servers = new Set<net.Server>();
  const draining: Draining = { now: false };
  const counting = config.count ? countResponses(servers) : undefined;
  injectIdentity(config, workerId, draining, counting);
  reportListens(config, servers, counting);
  runWorkerLifecycle({
    stats: counting?.stats,
    drain(closed) {
      draining.now = true;
      const listening = [...servers].filter((server) => server.listening);
      let open = listening.length;
      if (open === 0) return closed();
      for (const server of listening) drainServer(server, () => --open === 0 && closed());
    },
  });
}

function sum(servers: Set<net.Server>, of: (server: net.Server) => number): number {
  let total = 0;
  for (const server of servers) total += of(server);
  return total;
}

const raw = process.env[APP_CONFIG_ENV];
if (cluster.isWorker && cluster.worker && raw !== undefined) {
  // The app's environment is its own: ours leaves with the agent's configuration read.
  delete process.env[APP_CONFIG_ENV];
  install(JSON.parse(raw) as AppWorkerConfig, cluster.worker.id);
}
