import http from 'node:http';
import os from 'node:os';
import { trackConnections } from './drain.js';
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
}

function wantsJson(req: http.IncomingMessage): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('application/json');
}

/**
 * The seed's three routes, plus the things the seed left out: exact sums, input validation, 404/405, and
 * headers that say which process answered.
 */
export function createRequestHandler(options: HandlerOptions): http.RequestListener {
  const { identity, maxN } = options;
  const isShuttingDown = options.isShuttingDown ?? (() => false);
  const who = { pid: identity.pid, workerId: identity.workerId, primaryPid: identity.primaryPid, hostname: identity.hostname };
  // Built once: these headers are identical on every response of this process.
  const identityHeaders: Record<string, string> = {
    'x-worker-pid': String(identity.pid),
    'x-worker-id': String(identity.workerId),
    'x-primary-pid': String(identity.primaryPid),
    'x-hostname': identity.hostname,
  };

  function route(method: string, path: string): Reply {
    if (path === '/' || path === '/pid' || path.startsWith('/api/')) {
      if (method !== 'GET' && method !== 'HEAD') {
        return {
          status: 405,
          text: `method ${method} not allowed: use GET or HEAD`,
          json: { error: `method ${method} not allowed`, allow: ['GET', 'HEAD'], ...who },
          extraHeaders: { allow: 'GET, HEAD' },
        };
      }
    }
    if (path === '/') return { status: 200, text: 'Hello World!', json: { message: 'Hello World!', ...who } };
    if (path === '/pid') {
      return { status: 200, text: `Which PID handled this process: ${identity.pid}`, json: { ...who } };
    }
    if (path.startsWith('/api/')) {
      const raw = path.slice('/api/'.length);
      const parsed = parseN(raw, maxN);
      if (!parsed.ok) return { status: 400, text: parsed.reason, json: { error: parsed.reason, ...who } };
      const count = sumTo(parsed.n).toString();
      const note = parsed.clamped ? ` (n clamped from ${parsed.requested} to ${parsed.n} by --max-n)` : '';
      return {
        status: 200,
        text: `Final count is ${count} at pid: ${identity.pid}${note}`,
        // count is a string: sums past 2^53 do not survive JSON numbers.
        json: { n: parsed.n, count, clamped: parsed.clamped, requested: parsed.requested, ...who },
      };
    }
    return {
      status: 404,
      text: `not found: ${path.length > 80 ? `${path.slice(0, 80)}…` : path} (routes: /, /pid, /api/:n)`,
      json: { error: 'not found', routes: ['/', '/pid', '/api/:n'], ...who },
    };
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const reply = route(req.method ?? 'GET', path);
    const json = wantsJson(req);
    const body = json ? JSON.stringify(reply.json) : reply.text;
    const headers: Record<string, string | number> = {
      'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...identityHeaders,
      ...reply.extraHeaders,
    };
    // During a graceful shutdown each response closes its connection, so keep-alive clients reconnect to a
    // worker that is staying instead of holding this one open.
    if (isShuttingDown()) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(body);
  };
}

/** What llhttp's error codes mean, for the one-line body of a 400 (the client sent something unparseable). */
const PARSE_ERRORS: Record<string, string> = {
  HPE_INVALID_METHOD: 'unknown method (this server answers GET and HEAD)',
  HPE_INVALID_URL: 'invalid request target (percent-encode non-ASCII bytes and control characters)',
  HPE_INVALID_VERSION: 'unsupported HTTP version',
  HPE_INVALID_HEADER_TOKEN: 'invalid character in a header',
  HPE_INVALID_CONSTANT: 'malformed request line',
  HPE_LF_EXPECTED: 'malformed line ending',
  HPE_CR_EXPECTED: 'malformed line ending',
  HPE_INVALID_CONTENT_LENGTH: 'invalid content-length',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'content-length together with transfer-encoding',
  HPE_INVALID_TRANSFER_ENCODING: 'invalid transfer-encoding',
  HPE_INVALID_CHUNK_SIZE: 'invalid chunk size',
};

export interface DemoServerOptions extends HandlerOptions {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

/**
 * The one HTTP server: cluster workers, the single-process baseline of `compare` and every test run this.
 * Node's header and request timeouts stay on (overridable, never disabled) so slow clients cannot pin it.
 */
export function createDemoServer(options: DemoServerOptions): http.Server {
  const serverOptions: http.ServerOptions = {};
  if (options.headersTimeoutMs !== undefined) serverOptions.headersTimeout = options.headersTimeoutMs;
  if (options.requestTimeoutMs !== undefined) serverOptions.requestTimeout = options.requestTimeoutMs;
  if (options.keepAliveTimeoutMs !== undefined) serverOptions.keepAliveTimeout = options.keepAliveTimeoutMs;
  const shortest = Math.min(options.headersTimeoutMs ?? Infinity, options.requestTimeoutMs ?? Infinity);
  // Node checks the timeouts every 30 s by default; short timeouts need a shorter check to take effect.
  if (Number.isFinite(shortest)) serverOptions.connectionsCheckingInterval = Math.max(100, Math.min(30_000, shortest / 2));
  const server = http.createServer(serverOptions, createRequestHandler(options));
  trackConnections(server);
  // A malformed request must never crash the process: answer 400 where the socket is still writable.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const reason = status === 431 ? 'request headers too large' : status === 408 ? 'request timed out' : `bad request: ${PARSE_ERRORS[err.code ?? ''] ?? 'malformed HTTP request'}`;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
  });
  return server;
}
