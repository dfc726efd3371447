/**
 * What every way of sending requests offers the load loop: one interface, chosen once per run (engine.ts's
 * openSender). A sender sends one request at a time per call and reports its outcome once.
 */
import type { Outcome } from './collector.js';

/** An attempt's outcome, and when its response was complete (performance.now()), if there was one. */
export type Done = (outcome: Outcome, completedAt: number | undefined) => void;

/**
 * What really carried the requests: 'raw' (libuv's TCP handle), 'net' (net.Socket: asked for, or the
 * fallback where this Node lacks the handle bindings), 'tls' (https, a handshake per request), 'undici'
 * (HTTP/1.1 keep-alive) or 'h2' (HTTP/2 streams over a few connections).
 */
export type UsedTransport = 'raw' | 'net' | 'tls' | 'undici' | 'h2';

/** The application protocol the responses came over. */
export type HttpProtocol = 'http/1.1' | 'h2';

export interface Sender {
  readonly transport: UsedTransport;
  readonly protocol: HttpProtocol;
  /** Sends one request; `done` is called exactly once, with a response or a failure. */
  send(done: Done): void;
  /** HTTP/2: streams sent again because the server refused them unprocessed (a GOAWAY). */
  readonly goawayRetries?: number;
  /** Frees what the sender holds (timers, pools, sessions) once the last request has finished. */
  close(): Promise<void>;
}

/** A client library's error as a short cause: an errno, `timeout`, or `closed before response`. */
export function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  const code = e.code ?? e.cause?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_SOCKET') return 'closed before response';
  return code ?? e.message ?? 'unknown error';
}
