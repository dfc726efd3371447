/**
 * Graceful stop of one server (http, https, or HTTP/2 with its HTTP/1.1 fallback) without dropping a connection
 * that was just handed to it.
 *
 * Node 26 changed `server.closeIdleConnections()` (and so `server.close()`, which calls it): it now also
 * destroys a connection that has not sent its first request yet. Under the cluster that is exactly a
 * connection the primary has just handed to a worker that is draining (a rolling restart): the client's
 * request is on its way and it gets a reset or "socket hang up". Node 20, 22 and 24 leave such a connection
 * alone. So a draining server here never calls either: it stops listening through net.Server's close
 * (node-internals/stop-listening.ts), closes idle keep-alive connections itself, and gives a connection that
 * has not spoken yet a moment to send its request (answered with `connection: close`), closing it only if it
 * stays silent. An HTTP/2 session gets a GOAWAY (session.close()): its open streams finish, new ones go
 * elsewhere.
 *
 * "Idle" and "silent" are judged only after the event loop has read what is waiting. A worker busy with a
 * CPU-heavy request reads nothing meanwhile: a request a client sent seconds ago can sit unread in the socket
 * buffer (or a connection in the listening socket's accept queue), and judged before a read, that connection
 * looks idle and is cut. So every such decision waits for one poll phase of the loop (afterNextPoll), which
 * accepts every pending connection and reads every pending request (and lets nghttp2 see every stream a
 * client opened before its GOAWAY names the last one it will serve).
 */
import type http from 'node:http';
import type { Http2Session } from 'node:http2';
import type net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { stopListening } from '../node-internals/stop-listening.js';
import { pendingConnections } from './accept-queue.js';
import type { DemoResponse } from './handler.js';

interface ConnectionState {
  requests: number;
  /** The response of the latest request; finished → the connection is idle. */
  response?: http.ServerResponse;
  /** Its end has been told to the tracker's `finished` (below). */
  told?: boolean;
}

/**
 * Told of each finished HTTP/1.1 response of a server tracked with `requests: 'noted'`, late and from state kept
 * here anyway: when the next request on its connection arrives, when its connection closes, or when
 * settleResponses asks (a report). A user's app is counted so (app/agent.ts) instead of through a
 * diagnostics-channel message and a call per response.
 */
export type FinishedResponse = (res: http.ServerResponse) => void;

interface Tracked {
  /** HTTP/1.1 connections (over TLS: the TLS sockets, which are what requests name as their socket). */
  connections: Map<net.Socket, ConnectionState>;
  sessions: Set<Http2Session>;
  /** Sessions that began while draining: each is closed once its first streams are read (closeSessionWhenServed). */
  lateSessions: WeakSet<Http2Session>;
  /** HTTP/2 responses still being written (an HTTP/1.1 response is found through its connection). */
  h2Responses: Set<DemoResponse>;
  draining: boolean;
  /** Connections accepted so far (HTTP/2: sessions), for the stats; counted here, in the listener that already runs. */
  accepted: number;
  /** TCP connections accepted so far (over TLS: before the handshake), for the drain's sweep of the accept queue. */
  tcpAccepted: number;
  finished?: FinishedResponse;
  /** Draining: called once the last connection and session have ended (see whenConnectionsEnd). */
  onEmpty?: () => void;
}

/** How long a connection that has sent nothing yet may take to send its request once draining began. */
export const SILENT_CONNECTION_GRACE_MS = 1_000;

const tracked = new WeakMap<net.Server, Tracked>();

export interface TrackOptions {
  /**
   * 'listener': a 'request' listener notes each request (our own server); 'noted': the caller notes them with
   * noteRequest (a user's app, from a diagnostics channel it already listens to: a second 'request' listener on
   * the app's server would cost every request EventEmitter's slower many-listener path).
   */
  requests?: 'listener' | 'noted';
  /** Told of each finished HTTP/1.1 response, late (FinishedResponse); 'noted' servers only. */
  finished?: FinishedResponse;
  /** Each connection accepted (over TLS: its handshake done), from the listener that tracks it anyway. */
  accepted?: () => void;
}

/**
 * Keeps per-connection state for drainServer. Per connection: one map entry and one 'close' listener; per
 * HTTP/1.1 request: a map lookup and three assignments (no closure, no listener), so the request path stays as
 * cheap as before. `secure`: the server speaks TLS, so connections are tracked once their handshake is done.
 */
export function trackConnections(server: net.Server, secure: boolean, options: TrackOptions = {}): void {
  const { requests = 'listener', finished, accepted } = options;
  const state: Tracked = { connections: new Map(), sessions: new Set(), lateSessions: new WeakSet(), h2Responses: new Set(), draining: false, accepted: 0, tcpAccepted: 0, finished };
  tracked.set(server, state);
  function forget(this: net.Socket): void {
    const connection = state.connections.get(this);
    if (connection !== undefined) {
      // Its last response: finished (told now) or cut off with the connection (never finished: not told).
      if (connection.response?.writableFinished) tell(state, connection);
      // Let go of the response: this state may already be in V8's old generation, and dead there it would keep
      // the response, its request, socket and parser through every scavenge until the next full GC (bench NOTES,
      // row 9: the worker's scavenges 95–107 ms per 20,000 connections with it kept, 61–81 ms without).
      connection.response = undefined;
      state.connections.delete(this);
    }
    checkEmpty(state);
  }
  if (secure) server.on('connection', () => state.tcpAccepted++);
  server.on(secure ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    state.accepted++;
    if (!secure) state.tcpAccepted++;
    accepted?.();
    // An HTTP/2 connection is its session's business (below).
    if ((socket as TLSSocket).alpnProtocol === 'h2') return;
    state.connections.set(socket, { requests: 0 });
    // 'on', not 'once': a socket closes once, and once's wrapper (a bound function, and its removal) is a cost
    // per connection.
    socket.on('close', forget);
    // Accepted while draining (a hand-off already on its way): it too gets a moment to send its request.
    if (state.draining) closeIfSilent(state, socket);
  });
  if (requests === 'listener') server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => noteRequestOn(state, req, res));
  server.on('session', (session: Http2Session) => {
    state.sessions.add(session);
    session.once('close', () => {
      state.sessions.delete(session);
      checkEmpty(state);
    });
    if (state.draining) {
      state.lateSessions.add(session);
      closeSessionWhenServed(session);
    }
  });
}

/** Notes a request on its connection (HTTP/2: its response); false if its connection is not tracked. */
function noteRequestOn(state: Tracked, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (req.httpVersionMajor >= 2) {
    state.h2Responses.add(res);
    res.once('close', () => state.h2Responses.delete(res));
    return true;
  }
  const connection = state.connections.get(req.socket);
  if (connection === undefined) return false;
  if (connection.response !== undefined && state.finished !== undefined) tellWhenFinished(state, connection);
  connection.requests++;
  connection.response = res;
  connection.told = false;
  return true;
}

/** The connection's latest response, to the tracker's `finished`, once. */
function tell(state: Tracked, connection: ConnectionState): void {
  if (connection.told || connection.response === undefined) return;
  connection.told = true;
  state.finished?.(connection.response);
}

/**
 * A new request came on the connection: its previous response is finished (told now), or, pipelined behind it,
 * still being written (told on its 'finish').
 */
function tellWhenFinished(state: Tracked, connection: ConnectionState): void {
  const previous = connection.response as http.ServerResponse;
  if (connection.told) return;
  if (previous.writableFinished) return tell(state, connection);
  connection.told = true;
  previous.once('finish', () => state.finished?.(previous));
}

/**
 * A request on a server tracked with `requests: 'noted'` (its socket names the server that accepted it); false if
 * that server is not tracked (its responses are then nobody's to tell).
 */
export function noteRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const state = tracked.get((req.socket as net.Socket & { server?: net.Server }).server as net.Server);
  return state !== undefined && noteRequestOn(state, req, res);
}

/** Tells every finished response not told yet (the latest of each open connection): before a report. */
export function settleResponses(server: net.Server): void {
  const state = tracked.get(server);
  if (state?.finished === undefined) return;
  for (const connection of state.connections.values()) if (!connection.told && connection.response?.writableFinished) tell(state, connection);
}

/** Connections `server` has accepted so far (over TLS: handshakes done; an HTTP/2 session is one). */
export function acceptedConnections(server: net.Server): number {
  return tracked.get(server)?.accepted ?? 0;
}

/** Responses started and not yet finished, over the connections tracked for `server` (minus `skip`'s). */
export function unfinishedResponses(server: net.Server, skip: (res: DemoResponse) => boolean): number {
  const state = tracked.get(server);
  if (!state) return 0;
  let count = 0;
  for (const connection of state.connections.values()) if (connection.response && !connection.response.writableFinished && !skip(connection.response)) count++;
  for (const res of state.h2Responses) if (!res.writableFinished && !skip(res)) count++;
  return count;
}

/**
 * Runs `fn` once the loop has been through a poll phase (the one that accepts pending connections and reads
 * pending data): an immediate queued from a check phase runs on the next iteration, after that poll.
 */
export function afterNextPoll(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}

/** A connection that has sent no byte yet: nothing of a request is waiting on it. */
function isSilent(state: Tracked, socket: net.Socket): boolean {
  return state.connections.get(socket)?.requests === 0 && socket.bytesRead === 0;
}

/** How long a session that began while draining must open no new stream before its GOAWAY. */
export const SESSION_QUIET_MS = 100;

/**
 * A session that begins while draining (a queued connection, handed over now) has not sent its streams yet: a
 * GOAWAY now would name no stream and refuse them all. It goes once it has opened no new stream for
 * SESSION_QUIET_MS, judged after a read (its client may write its streams in several packets), or after the grace
 * a silent connection gets.
 */
function closeSessionWhenServed(session: Http2Session): void {
  let streams = 0;
  session.on('stream', () => streams++);
  const closeWhenQuiet = (seen: number, ms: number): void => {
    setTimeout(() => afterNextPoll(() => (streams === seen ? session.close() : closeWhenQuiet(streams, SESSION_QUIET_MS))), ms).unref();
  };
  session.once('stream', () => closeWhenQuiet(streams, SESSION_QUIET_MS));
  setTimeout(() => afterNextPoll(() => streams === 0 && session.close()), SILENT_CONNECTION_GRACE_MS).unref();
}

function closeIfSilent(state: Tracked, socket: net.Socket): void {
  // The grace is counted on the clock, but the verdict waits for a read: after a long busy stretch the timer
  // fires before the poll phase that would have read the request.
  setTimeout(() => afterNextPoll(() => isSilent(state, socket) && socket.destroy()), SILENT_CONNECTION_GRACE_MS).unref();
}

/**
 * Stop accepting; close idle keep-alive connections now and busy ones once their response is out; a
 * connection that has not sent a request yet gets SILENT_CONNECTION_GRACE_MS to do so; HTTP/2 sessions get a
 * GOAWAY. `onClosed` runs when the last connection has ended. The handler's `isShuttingDown` should turn true
 * first, so HTTP/1.1 responses from now on say `connection: close`.
 */
export function drainServer(server: net.Server, onClosed: () => void): void {
  const state = tracked.get(server);
  if (!state) {
    // Not a server of createDemoServer: Node's own behaviour is all we have.
    server.close(() => onClosed());
    (server as http.Server).closeIdleConnections?.();
    return;
  }
  state.draining = true;
  // From here a request that arrives (on a connection accepted before, or during the sweep below) is answered
  // with `connection: close`; should the client keep the socket anyway, close it once the response is out.
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.httpVersionMajor < 2) res.once('finish', () => setImmediate(closeIfIdle, state, req.socket));
  });
  // Accept what waits first, then stop listening and judge which connections are idle (see sweepAcceptQueue).
  sweepAcceptQueue(server, state, () => {
    stopListening(server, () => whenConnectionsEnd(state, onClosed));
    for (const session of state.sessions) if (!state.lateSessions.has(session)) session.close();
    for (const [socket, connection] of state.connections) {
      if (connection.requests === 0) closeIfSilent(state, socket);
      else if (connection.response?.writableFinished) socket.destroy();
      else connection.response?.once('finish', () => setImmediate(closeIfIdle, state, socket));
    }
  });
}

/**
 * `done` once every tracked connection and session has ended. A listening server's close already waits for its
 * connections; a server that never listened (--sched least-conn / ip-hash: its connections are handed over by the
 * primary and emitted, which net.Server does not count) closes at once, and this waits for them instead.
 */
function whenConnectionsEnd(state: Tracked, done: () => void): void {
  state.onEmpty = done;
  checkEmpty(state);
}

function checkEmpty(state: Tracked): void {
  if (state.onEmpty === undefined || state.connections.size > 0 || state.sessions.size > 0) return;
  const done = state.onEmpty;
  state.onEmpty = undefined;
  done();
}

/**
 * Keeps listening while connections wait to be accepted, then calls `done`. A poll phase accepts a pending
 * connection (a busy worker under `none` takes one per loop iteration), so a poll that accepted nothing means
 * the queue is empty. Under rr the primary's queue was handed out before the shutdown (primary.ts): one poll
 * takes the hand-offs still on their way. At most the connections waiting when the drain began are taken (where
 * the kernel says how many), so clients that keep connecting cannot hold the drain open.
 */
function sweepAcceptQueue(server: net.Server, state: Tracked, done: () => void): void {
  const address = server.address();
  let budget = (typeof address === 'object' && address ? pendingConnections(address.port) : null) ?? Number.POSITIVE_INFINITY;
  let seen = state.tcpAccepted;
  const step = () =>
    afterNextPoll(() => {
      const accepted = state.tcpAccepted - seen;
      seen = state.tcpAccepted;
      budget -= accepted;
      if (accepted === 0 || budget <= 0) done();
      else step();
    });
  step();
}

/** Closes a connection whose latest response is out, once the loop has read whatever it sent next. */
function closeIfIdle(state: Tracked, socket: net.Socket): void {
  const isIdle = () => {
    const connection = state.connections.get(socket);
    return connection !== undefined && connection.requests > 0 && connection.response?.writableFinished === true;
  };
  if (!isIdle()) return;
  const response = state.connections.get(socket)?.response;
  // Still the same finished response after a read: nothing else was sent on it.
  afterNextPoll(() => isIdle() && state.connections.get(socket)?.response === response && socket.destroy());
}
