/**
 * Under Node's public API: net.Server's own close() called on an http.Server, skipping http.Server#close().
 *
 * - Reaches under: `net.Server.prototype.close.call(server, callback)`. http.Server#close() is documented to
 *   also call closeIdleConnections(); this calls only the listening part, which is what net.Server#close does.
 * - Why: from Node 26, closeIdleConnections() also destroys a connection that has not sent its first request
 *   yet; under rr that is a connection the primary has just handed to a draining worker, and its client gets a
 *   reset (1 per SIGHUP, seen on 26.10.0). server/drain.ts closes the idle connections itself, more gently.
 * - Check and fallback: when net.Server.prototype.close is not a function (never seen), http.Server#close().
 * - Verified by the matrix (test/drain.test.ts and serve-cli's SIGHUP under load) on Node 20, 22, 24 and 26.
 */
import net from 'node:net';

export function stopListening(server: net.Server, onClosed: () => void): void {
  const close = net.Server.prototype.close as unknown;
  if (typeof close === 'function') (close as net.Server['close']).call(server, () => onClosed());
  else server.close(() => onClosed());
}
