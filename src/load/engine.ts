/**
 * The load engine. Two ways to send requests, chosen per run:
 *
 * - close (default): every request on a new TCP connection, `connection: close`. This is what shows the
 *   cluster's balancing, because the cluster hands out *connections*. It is written directly on net.Socket
 *   with the minimal parser in response-parser.ts: per-request cost decides whether the generator or the
 *   server is the bottleneck (bench/ measures it against ab and hey), and it lets the *server* close first,
 *   so TIME_WAIT lands on the server's side and the client's ephemeral port is free again at once.
 * - https targets in close mode: a TLS handshake per request (tls.connect), as a browser's first visit or a
 *   client without session reuse pays it; the raw TCP engine is for plain http only.
 * - keep-alive: an undici Pool with at most `connections` sockets, reused for request after request, which
 *   pins each request to the worker that accepted its connection (`--connections 1`: one worker).
 */
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Pool as UndiciPool } from 'undici';
import { failure, LoadCollector, type Outcome } from './collector.js';
import { pidFromBody, ResponseParser, type ParsedResponse } from './response-parser.js';
import { loadRawTcp, rawExchange, READ_BUFFER, type RawConnection } from '../node-internals/raw-tcp.js';
import { lookup } from 'node:dns/promises';

export interface LoadOptions {
  /** Base URL of the server, http or https; `path` is sent as it is (the caller adds any prefix). */
  target: URL;
  path: string;
  concurrency: number;
  /** Stop after this many requests … */
  requests?: number;
  /** … or after this long (ms); whichever is given. */
  durationMs?: number;
  keepAlive: boolean;
  /** Keep-alive only: the pool's socket cap (default: concurrency). */
  connections?: number;
  timeoutMs: number;
  /** Connection errors (reset, refused) retried on a new connection, per request. */
  retries: number;
  /** Close mode over http only: libuv handles directly (default where available) or net.Socket. */
  transport?: Transport;
  /** https: accept a certificate that does not verify (self-signed, wrong name). */
  insecure?: boolean;
  /** Keep issuing requests (past `requests`/`durationMs`) until this settles, e.g. a reload under load. */
  holdOpenUntil?: Promise<unknown>;
  /** Aborting stops issuing new requests; in-flight ones finish. */
  signal?: AbortSignal;
}

export interface LoadProgress {
  path: string;
  completed: number;
  total?: number;
  elapsedMs: number;
  durationMs?: number;
  ok: number;
  failed: number;
  perPid: Array<{ pid: number | null; requests: number }>;
}

export interface LoadObserver {
  onProgress?(progress: LoadProgress): void;
  /** One-line notices worth showing once (e.g. ephemeral port exhaustion). */
  onNotice?(line: string): void;
}

export interface LoadRecording {
  options: LoadOptions;
  collector: LoadCollector;
  /** performance.now() at start and end. */
  startedAt: number;
  endedAt: number;
  /** Date.now() at start, for lining up with cluster events. */
  wallStartedAt: number;
  /** process.cpuUsage() over the same window as startedAt..endedAt (µs): what sending cost this process. */
  cpu: { user: number; system: number };
  /**
   * What really carried the requests: 'raw' (libuv's TCP handle), 'net' (net.Socket: asked for, or the
   * fallback where this Node lacks the handle bindings), 'tls' (https, a handshake per request) or 'undici'
   * (keep-alive).
   */
  transport: UsedTransport;
}

export type UsedTransport = Transport | 'tls' | 'undici';

/** Connection errors worth a retry: the request never reached a handler (or the handler's process died). */
const RETRYABLE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'closed before response']);
const PORT_EXHAUSTED = 'EADDRNOTAVAIL';
const PROGRESS_INTERVAL_MS = 200;

/** An attempt's outcome, and when its response was complete (performance.now()), if there was one. */
type Done = (outcome: Outcome, completedAt: number | undefined) => void;
type Send = (done: Done) => void;

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_SOCKET') return 'closed before response';
  return code ?? e.message ?? 'unknown error';
}

export type Transport = 'raw' | 'net';

interface CloseTarget {
  ip: string;
  ipv6: boolean;
  port: number;
  /** The name TLS checks the certificate against (SNI), for https. */
  servername: string;
  request: Buffer;
}

async function resolveCloseTarget(options: LoadOptions): Promise<CloseTarget> {
  const hostname = options.target.hostname.replace(/^\[|\]$/g, '');
  // Resolved once, not per request: a name lookup per connection would cost more than the request.
  const { address, family } = await lookup(hostname);
  return {
    ip: address,
    ipv6: family === 6,
    port: Number(options.target.port || (options.target.protocol === 'https:' ? 443 : 80)),
    servername: hostname,
    request: Buffer.from(`GET ${options.path} HTTP/1.1\r\nHost: ${options.target.host}\r\nUser-Agent: cluster-demo\r\nAccept: */*\r\nConnection: close\r\n\r\n`, 'latin1'),
  };
}

/**
 * How long after a complete response the server gets to close the connection (it was asked to) before the
 * client closes it instead; only a server that ignores `connection: close` ever waits this long.
 */
const CLOSE_GRACE_MS = 1000;

function newPending(timeoutMs: number, inFlight: Set<PendingRequest>, done: Done, abort: () => void): PendingRequest {
  const pending: PendingRequest = {
    deadline: performance.now() + timeoutMs,
    finished: false,
    response: undefined,
    completedAt: undefined,
    complete(outcome) {
      if (pending.finished || pending.response) return;
      // The latency ends here; the lane is freed when the server has closed the connection (finish), as ab
      // does, so the generator never holds more connections open than its concurrency.
      pending.response = outcome;
      pending.completedAt = performance.now();
      pending.deadline = pending.completedAt + CLOSE_GRACE_MS;
    },
    finish(outcome) {
      if (pending.finished) return;
      pending.finished = true;
      inFlight.delete(pending);
      done(outcome, pending.completedAt);
    },
    abort() {
      // Past the deadline: a complete response whose connection the server never closed still counts.
      pending.finish(pending.response ?? failure('timeout'));
      abort();
    },
  };
  inFlight.add(pending);
  return pending;
}

function toOutcome(parsed: ParsedResponse): Outcome {
  return { status: parsed.status, pid: parsed.pid, host: parsed.host, primaryPid: parsed.primaryPid, error: undefined };
}

/** Feeds one read to the parser; finishes the request when the response is complete or malformed. */
function feed(parser: ResponseParser, pending: PendingRequest, data: Buffer): boolean {
  try {
    // The data buffer is reused by the next read; the parser copies what it must keep.
    const parsed = parser.push(data, true);
    // Complete. The connection is left for the server to close (it was asked to): whoever closes first keeps
    // the TIME_WAIT, and it must not be us, or every request would hold one of ~28k local ports for 60 s.
    if (parsed) pending.complete(toOutcome(parsed));
    return true;
  } catch (err) {
    pending.finish(failure(`malformed response: ${(err as Error).message}`));
    return false;
  }
}

/** Shared, never mutated: the outcome of a connection that ended before a complete response. */
const CLOSED_EARLY = failure('closed before response');

/**
 * The connection ended (the server's close, a reset, an error): settle the request with what arrived. A
 * complete response stands whatever happens to the connection after it.
 */
function settle(parser: ResponseParser, pending: PendingRequest, error: string | undefined): void {
  if (pending.finished) return;
  if (pending.response) return pending.finish(pending.response);
  if (error !== undefined) return pending.finish(failure(error));
  const parsed = parser.end();
  pending.finish(parsed ? toOutcome(parsed) : CLOSED_EARLY);
}

function makeRawSender(target: CloseTarget, timeoutMs: number, inFlight: Set<PendingRequest>): Send {
  const bindings = loadRawTcp()!;
  return (done) => {
    const parser = new ResponseParser();
    let connection: RawConnection | undefined;
    const pending = newPending(timeoutMs, inFlight, done, () => connection?.close());
    connection = rawExchange(bindings, target.ip, target.ipv6, target.port, target.request, {
      onData: (data) => {
        if (!pending.finished && !pending.response && !feed(parser, pending, data)) connection?.close();
      },
      onEnd: (error) => settle(parser, pending, error),
    });
  };
}

function makeNetSender(target: CloseTarget, timeoutMs: number, inFlight: Set<PendingRequest>): Send {
  return (done) => {
    const parser = new ResponseParser();
    const pending = newPending(timeoutMs, inFlight, done, () => socket.destroy());
    const socket = net.connect({
      port: target.port,
      host: target.ip,
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes: number, buffer: Uint8Array) => {
          if (pending.finished || pending.response) return true;
          if (feed(parser, pending, Buffer.from(buffer.buffer, buffer.byteOffset, bytes))) return true;
          socket.destroy();
          return false;
        },
      },
    });
    socket.on('connect', () => socket.write(target.request));
    settleOnEnd(socket, parser, pending);
  };
}

/** How a close-mode socket (net or TLS) ends its request: by the server's close, an error, or an early close. */
function settleOnEnd(socket: net.Socket, parser: ResponseParser, pending: PendingRequest): void {
  socket.on('end', () => {
    // The server closed its side: close ours at once (no half-close round trip).
    socket.destroy();
    settle(parser, pending, undefined);
  });
  socket.on('error', (err: NodeJS.ErrnoException) => settle(parser, pending, err.code ?? err.message));
  socket.on('close', () => settle(parser, pending, CLOSED_EARLY.error));
}

/** The TLS server name (SNI) for a host: a name, never an IP address (RFC 6066). */
export function sniName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

/** https, a new connection per request: the handshake is part of each request, as for a first visit. */
function makeTlsSender(target: CloseTarget, timeoutMs: number, inFlight: Set<PendingRequest>, insecure: boolean): Send {
  // The certificate check uses the URL's host even where SNI cannot carry it (an IP address).
  const servername = sniName(target.servername);
  return (done) => {
    const parser = new ResponseParser();
    const pending = newPending(timeoutMs, inFlight, done, () => socket.destroy());
    const socket = tls.connect({ port: target.port, host: target.ip, servername, rejectUnauthorized: !insecure, checkServerIdentity: (_, cert) => tls.checkServerIdentity(target.servername, cert) });
    socket.on('secureConnect', () => socket.write(target.request));
    socket.on('data', (data: Buffer) => {
      if (pending.finished || pending.response) return;
      if (!feed(parser, pending, data)) socket.destroy();
    });
    settleOnEnd(socket, parser, pending);
  };
}

interface PendingRequest {
  deadline: number;
  finished: boolean;
  /** The complete response, while the connection waits for the server's close. */
  response: Outcome | undefined;
  completedAt: number | undefined;
  complete(outcome: Outcome): void;
  finish(outcome: Outcome): void;
  abort(): void;
}

/** One timer for all in-flight requests instead of one per request: a sweep every 50 ms. */
function startTimeoutSweep(inFlight: Set<PendingRequest>): NodeJS.Timeout {
  return setInterval(() => {
    const now = performance.now();
    for (const pending of inFlight) if (pending.deadline <= now) pending.abort();
  }, 50);
}

async function makeKeepAliveSender(options: LoadOptions): Promise<{ send: Send; close: () => Promise<void> }> {
  // Loaded only for keep-alive runs: the close-mode engine does not need undici's weight in memory.
  const { Pool } = await import('undici');
  const pool: UndiciPool = new Pool(options.target.origin, {
    connections: options.connections ?? options.concurrency,
    pipelining: 1,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    connect: { rejectUnauthorized: !options.insecure },
  });
  const send: Send = (done) => {
    pool
      .request({ path: options.path, method: 'GET', headers: { 'user-agent': 'cluster-demo' } })
      .then(async (response) => {
        const header = (name: string) => {
          const value = response.headers[name];
          return Array.isArray(value) ? value[0] : value;
        };
        const pidHeader = header('x-worker-pid');
        let pid = pidHeader !== undefined ? Number(pidHeader) || undefined : undefined;
        if (pid === undefined) {
          pid = pidFromBody(await response.body.text());
        } else {
          await response.body.dump();
        }
        const primary = header('x-primary-pid');
        done({ status: response.statusCode, pid, host: header('x-hostname'), primaryPid: primary !== undefined ? Number(primary) : undefined, error: undefined }, performance.now());
      })
      .catch((err: unknown) => done(failure(errorCode(err)), undefined));
  };
  return { send, close: () => pool.close() };
}

/** Runs one load against one path and returns what was recorded. Never rejects for request failures. */
export async function runLoad(options: LoadOptions, observer: LoadObserver = {}): Promise<LoadRecording> {
  const collector = new LoadCollector();
  const keepAlive = options.keepAlive ? await makeKeepAliveSender(options) : undefined;
  const pendingRequests = new Set<PendingRequest>();
  let send: Send;
  let transport: UsedTransport = 'undici';
  if (keepAlive) send = keepAlive.send;
  else {
    const target = await resolveCloseTarget(options);
    if (options.target.protocol === 'https:') transport = 'tls';
    else transport = (options.transport ?? 'raw') === 'raw' && loadRawTcp() ? 'raw' : 'net';
    send =
      transport === 'tls'
        ? makeTlsSender(target, options.timeoutMs, pendingRequests, options.insecure ?? false)
        : transport === 'raw'
          ? makeRawSender(target, options.timeoutMs, pendingRequests)
          : makeNetSender(target, options.timeoutMs, pendingRequests);
    if (transport === 'net' && options.transport !== 'net') {
      observer.onNotice?.(`this Node (${process.version}) lacks libuv's TCP handle bindings: the engine falls back to net.Socket, which costs the generator more CPU per request`);
    }
  }
  const sweep = keepAlive ? undefined : startTimeoutSweep(pendingRequests);
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  const wallStartedAt = Date.now();
  const deadline = options.durationMs !== undefined ? startedAt + options.durationMs : Infinity;
  const total = options.requests ?? (options.durationMs === undefined ? 1000 : Infinity);
  let issued = 0;
  let portNoticeShown = false;

  const progress = (): LoadProgress => ({
    path: options.path,
    completed: collector.completed,
    total: Number.isFinite(total) ? total : undefined,
    elapsedMs: performance.now() - startedAt,
    durationMs: options.durationMs,
    ok: collector.ok,
    failed: collector.failed,
    perPid: collector.countsByPid(),
  });
  const ticker = observer.onProgress ? setInterval(() => observer.onProgress!(progress()), PROGRESS_INTERVAL_MS) : undefined;

  await new Promise<void>((resolve) => {
    let inFlight = 0;
    let held = options.holdOpenUntil !== undefined;
    void options.holdOpenUntil?.finally(() => (held = false));
    const shouldIssue = () => !options.signal?.aborted && (held || (issued < total && performance.now() < deadline));

    const attempt = (firstStartedAt: number, retriesLeft: number, portWaitMs: number) => {
      send((result, completedAt) => {
        if (result.error === PORT_EXHAUSTED) {
          // Out of ephemeral ports (TIME_WAIT): wait for the kernel to free some and try again, not a failure.
          collector.portBackoffs++;
          if (!portNoticeShown) {
            portNoticeShown = true;
            observer.onNotice?.(
              'ran out of local ports (EADDRNOTAVAIL): backing off and retrying; for long runs widen net.ipv4.ip_local_port_range or set net.ipv4.tcp_tw_reuse=1',
            );
          }
          const wait = Math.min(1000, Math.max(10, portWaitMs * 2));
          setTimeout(() => attempt(firstStartedAt, retriesLeft, wait), wait);
          return;
        }
        if (result.error !== undefined && retriesLeft > 0 && RETRYABLE.has(result.error) && !options.signal?.aborted) {
          collector.retries++;
          attempt(firstStartedAt, retriesLeft - 1, portWaitMs);
          return;
        }
        collector.record(result, firstStartedAt, (completedAt ?? performance.now()) - firstStartedAt);
        next();
      });
    };

    const next = () => {
      if (!shouldIssue()) {
        inFlight--;
        if (inFlight === 0) resolve();
        return;
      }
      issued++;
      attempt(performance.now(), options.retries, 5);
    };

    const lanes = Math.max(1, Math.min(options.concurrency, Number.isFinite(total) ? total : options.concurrency));
    inFlight = lanes;
    for (let i = 0; i < lanes; i++) next();
  });

  const endedAt = performance.now();
  const cpu = process.cpuUsage(cpuAtStart);
  if (ticker) clearInterval(ticker);
  if (sweep) clearInterval(sweep);
  observer.onProgress?.(progress());
  await keepAlive?.close();
  return { options, collector, startedAt, endedAt, wallStartedAt, cpu, transport };
}
