/**
 * Long-lived connections on the one server: `/ws` (a WebSocket, with the ecosystem's `ws` library) and `/sse` (an
 * EventSource stream). Both pin their client to the worker that accepted the connection for as long as it lives:
 * the cluster hands out connections, not requests.
 *
 * - /ws: the worker greets each socket with `{"type":"hello","pid","workerId","connection"}` and answers every
 *   message with `{"type":"reply","pid","workerId","connection","seq"}` (seq: the messages answered on that socket
 *   so far); a JSON message's own `seq`, if any, is echoed as `echo`, so a client can match replies to messages.
 * - /sse: `retry: 1000`, an `event: hello` with the same identity, then a `data:` tick every second, written by one
 *   timer for every stream of the worker (none while no stream is open).
 *
 * Counted per worker (open now, accepted so far, WebSocket messages answered) for the stats. Stopping (graceful
 * stop, rolling reload): every socket gets a close frame 1001 "going away" (terminated if its client does not
 * answer within CLOSE_GRACE_MS) and every stream its end, so clients reconnect to a worker that stays; none of
 * it is a failed request. Hostile input (bad handshakes, unmasked or oversized frames, junk) ends that one
 * socket, with the close code the protocol names, never the worker.
 */
import type http from 'node:http';
import type net from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { LongLivedCounts } from './counts/document.js';
import type { DemoRequest, DemoResponse, ServerIdentity } from './handler.js';

/** The largest WebSocket message a worker accepts; a larger frame closes that socket with 1009. */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;
/** How long a closing socket's client has to answer our close frame before the socket is cut. */
export const CLOSE_GRACE_MS = 2_000;
export const SSE_TICK_MS = 1_000;
/** What EventSource waits before reconnecting, sent at the start of each stream. */
export const SSE_RETRY_MS = 1_000;

export function emptyLongLivedCounts(): LongLivedCounts {
  return { ws: { open: 0, accepted: 0, messages: 0 }, sse: { open: 0, accepted: 0 } };
}

type Stream = DemoResponse & Pick<http.ServerResponse, 'once'>;

export class LongLived {
  readonly counts = emptyLongLivedCounts();
  private readonly sockets = new Set<WebSocket>();
  private readonly streams = new Set<Stream>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE_BYTES, clientTracking: false, perMessageDeflate: false });
  private ticker?: NodeJS.Timeout;
  private ticks = 0;
  private closing = false;

  constructor(
    private readonly identity: ServerIdentity,
    /** Something changed (a socket or stream opened or closed, a message answered): the stats report it. */
    private readonly changed: () => void = () => {},
  ) {
    // The handshake's 101 names the worker too: a browser's DevTools shows it before any message.
    const headers = [`x-worker-pid: ${identity.pid}`, `x-worker-id: ${identity.workerId}`, `x-primary-pid: ${identity.primaryPid}`, `x-hostname: ${identity.hostname}`];
    this.wss.on('headers', (lines: string[]) => lines.push(...headers));
  }

  /** The server's 'upgrade' listener: /ws becomes a WebSocket (ws answers a bad handshake with 400); any other path is a 404. */
  upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path !== '/ws' || this.closing) {
      const reason = this.closing ? 'this worker is stopping: reconnect' : `no WebSocket at ${path.length > 80 ? `${path.slice(0, 80)}…` : path} (WebSocket: /ws)`;
      const status = this.closing ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket));
  }

  private accept(ws: WebSocket, socket: net.Socket): void {
    const connection = ++this.counts.ws.accepted;
    this.counts.ws.open++;
    this.sockets.add(ws);
    this.changed();
    const who = { pid: this.identity.pid, workerId: this.identity.workerId, connection };
    let seq = 0;
    ws.send(JSON.stringify({ type: 'hello', ...who, primaryPid: this.identity.primaryPid, hostname: this.identity.hostname, remotePort: socket.remotePort }));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      seq++;
      this.counts.ws.messages++;
      const echo = isBinary ? undefined : seqOf(data);
      ws.send(JSON.stringify(echo === undefined ? { type: 'reply', ...who, seq } : { type: 'reply', ...who, seq, echo }));
      this.changed();
    });
    // A protocol error (unmasked or oversized frame, bad opcode, invalid UTF-8): ws closes that socket with the
    // code the protocol names (1002, 1009, 1007); the error is that client's, not the worker's.
    ws.on('error', () => ws.terminate());
    ws.once('close', () => {
      this.sockets.delete(ws);
      this.counts.ws.open--;
      this.changed();
    });
    if (this.closing) this.closeSocket(ws);
  }

  /** GET /sse: an EventSource stream, its identity first, then a tick a second until it or the worker stops. */
  sse(req: DemoRequest, res: DemoResponse, identityHeaders: Record<string, string>): void {
    const stream = res as Stream;
    const headers: Record<string, string> = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...identityHeaders };
    if (req.httpVersionMajor < 2 && this.closing) headers.connection = 'close';
    res.writeHead(200, headers);
    const connection = ++this.counts.sse.accepted;
    const hello = { pid: this.identity.pid, workerId: this.identity.workerId, connection, primaryPid: this.identity.primaryPid, hostname: this.identity.hostname };
    res.write(`retry: ${SSE_RETRY_MS}\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
    if (this.closing) {
      res.end();
      return;
    }
    this.counts.sse.open++;
    this.streams.add(stream);
    this.changed();
    // 'close': the stream ended (ours) or its client went away.
    stream.once('close', () => {
      if (!this.streams.delete(stream)) return;
      this.counts.sse.open--;
      this.changed();
      if (this.streams.size === 0) this.stopTicker();
    });
    this.ticker ??= setInterval(() => this.tick(), SSE_TICK_MS);
  }

  private tick(): void {
    const line = `data: ${JSON.stringify({ pid: this.identity.pid, workerId: this.identity.workerId, tick: ++this.ticks })}\n\n`;
    for (const stream of this.streams) stream.write(line);
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** A response of ours that is a stream (never finishes by itself): not "in flight". */
  isStream(res: DemoResponse): boolean {
    return this.streams.has(res as Stream);
  }

  /** Stopping: a close frame to every socket, an end to every stream; later ones get the same at once. */
  closeAll(): void {
    this.closing = true;
    for (const ws of this.sockets) this.closeSocket(ws);
    for (const stream of this.streams) stream.end();
    this.stopTicker();
  }

  private closeSocket(ws: WebSocket): void {
    ws.close(1001, 'server restarting: reconnect');
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }
}

/** A JSON message's `seq` (a number), else undefined: the reply echoes it. */
function seqOf(data: RawData): number | undefined {
  const text = data.toString();
  if (text.length > 200 || !text.startsWith('{')) return undefined;
  try {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isFinite(seq) ? seq : undefined;
  } catch {
    return undefined;
  }
}
