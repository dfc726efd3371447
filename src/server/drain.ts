/**
 * Graceful stop of one HTTP server without dropping a connection that was just handed to it.
 *
 * Node 26 changed `server.closeIdleConnections()` (and so `server.close()`, which calls it): it now also
 * destroys a connection that has not sent its first request yet. Under the cluster that is exactly a
 * connection the primary has just handed to a worker that is draining (a rolling restart): the client's
 * request is on its way and it gets a reset or "socket hang up". Node 20, 22 and 24 leave such a connection
 * alone. So a draining server here never calls either: it stops listening through net.Server's close, closes
 * idle keep-alive connections itself, and gives a connection that has not spoken yet a moment to send its
 * request (answered with `connection: close`), closing it only if it stays silent.
 */
import type http from 'node:http';
import type net from 'node:net';
import { stopListening } from '../node-internals/stop-listening.js';

interface ConnectionState {
  requests: number;
  /** The response of the latest request; finished → the connection is idle. */
  response?: http.ServerResponse;
}

/** How long a connection that has sent nothing yet may take to send its request once draining began. */
export const SILENT_CONNECTION_GRACE_MS = 1_000;

const tracked = new WeakMap<http.Server, Map<net.Socket, ConnectionState>>();

/**
 * Keeps per-connection state for drainServer. Per connection: one map entry; per request: two assignments
 * (no closure, no listener), so the request path stays as cheap as before.
 */
export function trackConnections(server: http.Server): void {
  const connections = new Map<net.Socket, ConnectionState>();
  tracked.set(server, connections);
  function forget(this: net.Socket): void {
    connections.delete(this);
  }
  server.on('connection', (socket: net.Socket) => {
    connections.set(socket, { requests: 0 });
    socket.once('close', forget);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const state = connections.get(req.socket);
    if (state) {
      state.requests++;
      state.response = res;
    }
  });
}

/** Responses started and not yet finished, over the connections tracked for `server` (minus `skip`'s). */
export function unfinishedResponses(server: http.Server, skip: (res: http.ServerResponse) => boolean): number {
  let count = 0;
  for (const state of tracked.get(server)?.values() ?? []) if (state.response && !state.response.writableFinished && !skip(state.response)) count++;
  return count;
}

/**
 * Stop accepting; close idle keep-alive connections now and busy ones once their response is out; a
 * connection that has not sent a request yet gets SILENT_CONNECTION_GRACE_MS to do so. `onClosed` runs when
 * the last connection has ended. The handler's `isShuttingDown` should turn true first, so responses from
 * now on say `connection: close`.
 */
export function drainServer(server: http.Server, onClosed: () => void): void {
  const connections = tracked.get(server);
  if (!connections) {
    // Not a server of createDemoServer: Node's own behaviour is all we have.
    server.close(() => onClosed());
    server.closeIdleConnections();
    return;
  }
  stopListening(server, onClosed);
  const closeIfIdle = (socket: net.Socket) => {
    const state = connections.get(socket);
    if (state && state.requests > 0 && state.response?.writableFinished) socket.destroy();
  };
  for (const [socket, state] of connections) {
    if (state.requests === 0) {
      setTimeout(() => {
        if (connections.get(socket)?.requests === 0) socket.destroy();
      }, SILENT_CONNECTION_GRACE_MS).unref();
    } else if (state.response?.writableFinished) {
      socket.destroy();
    } else {
      state.response?.once('finish', () => setImmediate(closeIfIdle, socket));
    }
  }
  // A request that arrives while draining (on a connection accepted just before) is answered with
  // `connection: close`; should the client keep the socket anyway, close it once the response is out.
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => res.once('finish', () => setImmediate(closeIfIdle, req.socket)));
}
