/**
 * A new TCP connection per request (the default): `connection: close`, the server closes first. This is what
 * shows the cluster's balancing, because the cluster hands out *connections*. Over plain http it is written on
 * libuv's TCP handle (node-internals/raw-tcp.ts) or net.Socket, with the minimal parser in
 * response-parser.ts: per-request cost decides whether the generator or the server is the bottleneck (bench/
 * measures it against ab and hey), and letting the *server* close first puts TIME_WAIT on its side, so the
 * client's ephemeral port is free again at once. Over https, a TLS handshake per request (tls.connect), as a
 * browser's first visit or a client without session reuse pays it.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { loadRawTcp, rawExchange, READ_BUFFER, type RawConnection } from '../node-internals/raw-tcp.js';
import { failure, type Outcome } from './collector.js';
import type { LoadObserver, LoadOptions } from './engine.js';
import { ResponseParser, type ParsedResponse } from './response-parser.js';
import type { Done, Sender } from './sender.js';
import { IDENTITY_REQUEST_HEADER, IDENTITY_REQUEST_VALUE } from '../core/identity.js';

type Send = (done: Done) => void;

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
    request: Buffer.from(`GET ${options.path} HTTP/1.1\r\nHost: ${options.target.host}\r\nUser-Agent: cluster-demo\r\n${IDENTITY_REQUEST_HEADER}: ${IDENTITY_REQUEST_VALUE}\r\nAccept: */*\r\nConnection: close\r\n\r\n`, 'latin1'),
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
function makeTlsSender(target: CloseTarget, timeoutMs: number, inFlight: Set<PendingRequest>, insecure: boolean, ca: string | undefined): Send {
  // The certificate check uses the URL's host even where SNI cannot carry it (an IP address).
  const servername = sniName(target.servername);
  return (done) => {
    const parser = new ResponseParser();
    const pending = newPending(timeoutMs, inFlight, done, () => socket.destroy());
    const socket = tls.connect({ port: target.port, host: target.ip, servername, ca, rejectUnauthorized: !insecure, checkServerIdentity: (_, cert) => tls.checkServerIdentity(target.servername, cert) });
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


/** The close-mode sender for this target: TLS for https; the raw handle over http where this Node has it. */
export async function openCloseModeSender(options: LoadOptions, observer: LoadObserver): Promise<Sender> {
  const target = await resolveCloseTarget(options);
  const inFlight = new Set<PendingRequest>();
  let transport: 'tls' | 'raw' | 'net';
  let send: Send;
  if (options.target.protocol === 'https:') {
    transport = 'tls';
    send = makeTlsSender(target, options.timeoutMs, inFlight, options.insecure ?? false, options.ca);
  } else if ((options.transport ?? 'raw') === 'raw' && loadRawTcp()) {
    transport = 'raw';
    send = makeRawSender(target, options.timeoutMs, inFlight);
  } else {
    transport = 'net';
    send = makeNetSender(target, options.timeoutMs, inFlight);
    if (options.transport !== 'net') {
      observer.onNotice?.(`this Node (${process.version}) lacks libuv's TCP handle bindings: the engine falls back to net.Socket, which costs the generator more CPU per request`);
    }
  }
  const sweep = startTimeoutSweep(inFlight);
  return {
    transport,
    protocol: 'http/1.1',
    send,
    close: async () => clearInterval(sweep),
  };
}
