/**
 * The one server: cluster workers, the single-process baseline of `compare` and every test run this. Plain
 * HTTP/1.1 (http), HTTPS over HTTP/1.1 (https), or HTTPS offering HTTP/2 and HTTP/1.1 by ALPN (h2, with
 * `allowHTTP1`, so curl, browsers and old clients all work). The same request handler behind all three, and the
 * long-lived connections (long-lived.ts): a WebSocket at /ws, an event stream at /sse.
 * Node's header and request timeouts stay on (overridable, never disabled) and TLS handshakes have a timeout,
 * so slow clients cannot pin a worker; malformed input of any kind ends in an error answer or a closed
 * connection, never a crashed process.
 */
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import { limitConnectionAge } from './connection-age.js';
import { trackConnections } from './drain.js';
import { createRequestHandler, type HandlerOptions } from './handler.js';
import { LongLived } from './long-lived.js';
import type { TlsMaterial } from './tls/certificate.js';

export type ServeProtocol = 'http' | 'https' | 'h2';

export type DemoServer = http.Server | https.Server | http2.Http2SecureServer;

export interface DemoServerOptions extends HandlerOptions {
  /** Default http. https and h2 need `tls`. */
  protocol?: ServeProtocol;
  tls?: TlsMaterial;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /** End a connection older than this gracefully (connection-age.ts); undefined: never. */
  maxConnectionAgeMs?: number;
  /** How long a client may take to finish its TLS handshake. Default 10 s. */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Streams one HTTP/2 connection may have open at once (nginx's default is 128 too). */
export const MAX_CONCURRENT_STREAMS = 128;

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

/** HTTP/1.1's timeouts, as node:http (and https, and http2's HTTP/1.1 fallback) take them. */
function http1Options(options: DemoServerOptions): http.ServerOptions {
  const serverOptions: http.ServerOptions = {};
  if (options.headersTimeoutMs !== undefined) serverOptions.headersTimeout = options.headersTimeoutMs;
  if (options.requestTimeoutMs !== undefined) serverOptions.requestTimeout = options.requestTimeoutMs;
  if (options.keepAliveTimeoutMs !== undefined) serverOptions.keepAliveTimeout = options.keepAliveTimeoutMs;
  const shortest = Math.min(options.headersTimeoutMs ?? Infinity, options.requestTimeoutMs ?? Infinity);
  // Node checks the timeouts every 30 s by default; short timeouts need a shorter check to take effect.
  if (Number.isFinite(shortest)) serverOptions.connectionsCheckingInterval = Math.max(100, Math.min(30_000, shortest / 2));
  return serverOptions;
}

/** A malformed HTTP/1.1 request must never crash the process: answer 400 (or 408, 431) where the socket is still writable. */
function answerClientError(err: NodeJS.ErrnoException, socket: net.Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason = status === 431 ? 'request headers too large' : status === 408 ? 'request timed out' : `bad request: ${PARSE_ERRORS[err.code ?? ''] ?? 'malformed HTTP request'}`;
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

function secureServer(protocol: 'https' | 'h2', options: DemoServerOptions, listener: http.RequestListener): https.Server | http2.Http2SecureServer {
  if (!options.tls) throw new Error(`protocol ${protocol} needs a certificate and key`);
  const tlsOptions = { cert: options.tls.cert, key: options.tls.key, handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS };
  if (protocol === 'https') return https.createServer({ ...tlsOptions, ...http1Options(options) }, listener);
  const server = http2.createSecureServer(
    { ...tlsOptions, ...http1Options(options), allowHTTP1: true, settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, enablePush: false } } as http2.SecureServerOptions,
    listener as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  // A session that sends bad frames is ended by nghttp2 (GOAWAY); its error is the session's, not the process's.
  server.on('sessionError', (_err: Error, session?: http2.Http2Session) => session?.destroy());
  server.on('session', (session: http2.Http2Session) => session.on('error', () => session.destroy()));
  return server;
}

export function createDemoServer(options: DemoServerOptions): DemoServer {
  const protocol = options.protocol ?? 'http';
  // /ws and /sse: the worker's own (counted, closed on stop) or, for a plain process, one of its own.
  const longLived = options.longLived ?? new LongLived(options.identity);
  const listener = createRequestHandler({ ...options, longLived }) as http.RequestListener;
  const server = protocol === 'http' ? http.createServer(http1Options(options), listener) : secureServer(protocol, options, listener);
  trackConnections(server, protocol !== 'http');
  if (options.maxConnectionAgeMs !== undefined) limitConnectionAge(server, protocol, options.maxConnectionAgeMs);
  server.on('clientError', answerClientError);
  // WebSocket at /ws over HTTP/1.1 (and h2's HTTP/1.1 fallback); any other upgrade is answered, never left hanging.
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => longLived.upgrade(req, socket, head));
  // Garbage instead of a TLS handshake, or a handshake that timed out: close that connection, nothing else.
  if (protocol !== 'http') server.on('tlsClientError', (_err: Error, socket: net.Socket) => socket.destroy());
  return server;
}
