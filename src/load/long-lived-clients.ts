/**
 * The client side of long-lived connections (server: cluster/long-lived.ts): many WebSockets to `/ws` or event
 * streams from `/sse`, each on a new TCP connection. A WebSocket sends its messages one after another and checks
 * that every reply names the worker that greeted it; a stream checks every tick the same way. Each client is a
 * slot; with `reconnect`, a slot whose connection the server ends (a worker killed, a rolling restart) opens a
 * new one after a backoff, as a real client does, and keeps the history. Measurement only: it returns data.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export type LongLivedKind = 'ws' | 'sse';

/** One connection of a slot. */
export interface Session {
  /** The worker that greeted it; undefined if it never got that far. */
  pid?: number;
  workerId?: number;
  /** The worker's own number for it (its n-th accepted). */
  connection?: number;
  /** WebSocket replies, or stream ticks, received; and how many of them named a PID other than the greeting's. */
  messages: number;
  foreign: number;
  openedAtMs: number;
  /** From the start of this session to its greeting. */
  greetMs?: number;
  closedAtMs?: number;
  /** WebSocket close code (1001: the worker is stopping; 1006: cut without a close frame); a stream: 1000 ended, 1006 cut. */
  closeCode?: number;
  error?: string;
}

export interface Slot {
  index: number;
  localAddress?: string;
  sessions: Session[];
}

export interface HoldOptions {
  kind: LongLivedKind;
  /** The server's base URL (http[s]://host:port); the path is /ws or /sse. */
  url: string;
  connections: number;
  /** At most this many connections opening at once. */
  concurrency: number;
  /** WebSocket: messages per connection, one after another (each waits for its reply). */
  messages: number;
  /** The source address of slot i (to spread over 127.0.0.2…N); undefined: the OS's choice. */
  localAddress?: (index: number) => string | undefined;
  /** A connection the server ends is opened again after a backoff. */
  reconnect?: boolean;
  /** https: accept a certificate that does not verify. */
  insecure?: boolean;
  /** Per connection: greeted (and every message answered) within this, ms. Default 10 s. */
  timeoutMs?: number;
}

/**
 * Reconnect backoff as Socket.IO's client does it by default: 1 s doubling to 5 s, each ±50% at random (`random`
 * in [0, 1)), so the clients of one lost worker do not all return in the same millisecond.
 */
export function reconnectDelayMs(failures: number, random: number): number {
  const base = Math.min(5_000, 1_000 * 2 ** failures);
  return Math.round(base * (0.5 + random));
}

interface Connection {
  close(): void;
  terminate(): void;
}

export class HeldClients {
  readonly slots: Slot[] = [];
  private readonly connections = new Map<Slot, Connection>();
  private stopping = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly startedAt = performance.now();

  constructor(private readonly options: HoldOptions) {}

  now(): number {
    return performance.now() - this.startedAt;
  }

  /** Opens every slot's first connection (at most `concurrency` at once); resolves once each is greeted (and answered) or failed. */
  async open(): Promise<void> {
    let next = 0;
    const opener = async () => {
      while (next < this.options.connections) {
        const index = next++;
        const slot: Slot = { index, sessions: [] };
        const address = this.options.localAddress?.(index);
        if (address) slot.localAddress = address;
        this.slots[index] = slot;
        await this.connect(slot, 0);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.options.concurrency, this.options.connections)) }, opener));
  }

  /** The latest session of every slot that is open now (greeted, not closed). */
  openSessions(): Session[] {
    return this.slots.map((s) => s.sessions.at(-1)).filter((s): s is Session => s !== undefined && s.pid !== undefined && s.closedAtMs === undefined);
  }

  /** Resolves once every slot's latest connection has closed, or after timeoutMs (false). */
  async allClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.slots.every((s) => s.sessions.at(-1)?.closedAtMs !== undefined)) return true;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  /** Stops reconnecting, closes every connection (cut after timeoutMs). */
  async close(timeoutMs = 2_000): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const connection of this.connections.values()) connection.close();
    if (!(await this.allClosed(timeoutMs))) for (const connection of this.connections.values()) connection.terminate();
  }

  private connect(slot: Slot, failures: number): Promise<void> {
    const session: Session = { messages: 0, foreign: 0, openedAtMs: this.now() };
    slot.sessions.push(session);
    return new Promise<void>((resolve) => {
      const timeoutMs = this.options.timeoutMs ?? 10_000;
      const timer = setTimeout(() => fail(`not greeted${this.options.kind === 'ws' ? ` and answered ${this.options.messages} times` : ''} within ${timeoutMs / 1000} s`), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const fail = (message: string) => {
        session.error ??= message;
        done();
      };
      const events: SessionEvents = {
        greeted: (hello) => {
          session.pid = hello.pid;
          session.workerId = hello.workerId;
          session.connection = hello.connection;
          session.greetMs = this.now() - session.openedAtMs;
        },
        message: (pid) => {
          session.messages++;
          if (pid !== session.pid) session.foreign++;
        },
        ready: done,
        closed: (code, error) => {
          session.closedAtMs = this.now();
          session.closeCode = code;
          if (error !== undefined) session.error ??= error;
          this.connections.delete(slot);
          done();
          if (this.options.reconnect && !this.stopping) {
            const again = session.pid === undefined ? failures + 1 : 0;
            const timer2 = setTimeout(() => {
              this.timers.delete(timer2);
              if (!this.stopping) void this.connect(slot, again);
            }, reconnectDelayMs(again, Math.random()));
            this.timers.add(timer2);
          }
        },
      };
      const address = slot.localAddress;
      this.connections.set(slot, this.options.kind === 'ws' ? openWebSocket(this.options, address, events) : openStream(this.options, address, events));
    });
  }
}

interface Hello {
  pid: number;
  workerId?: number;
  connection?: number;
}

interface SessionEvents {
  greeted(hello: Hello): void;
  /** A reply (WebSocket) or a tick (stream), with the PID it names. */
  message(pid: number | undefined): void;
  /** Greeted, and (WebSocket) every message answered. */
  ready(): void;
  closed(code: number, error?: string): void;
}

function endpoint(base: string, kind: LongLivedKind): URL {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${kind}`;
  if (kind === 'ws') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}

function openWebSocket(options: HoldOptions, localAddress: string | undefined, events: SessionEvents): Connection {
  const ws = new WebSocket(endpoint(options.url, 'ws'), { localAddress, perMessageDeflate: false, handshakeTimeout: options.timeoutMs ?? 10_000, rejectUnauthorized: !options.insecure });
  let sent = 0;
  let error: string | undefined;
  const sendNext = () => {
    if (sent >= options.messages) return events.ready();
    ws.send(JSON.stringify({ seq: ++sent }));
  };
  ws.on('message', (data) => {
    const message = parseJson(String(data)) as (Hello & { type?: string; echo?: number }) | undefined;
    if (message?.type === 'hello') {
      events.greeted(message);
      sendNext();
    } else if (message?.type === 'reply') {
      events.message(message.pid);
      if (message.echo === sent) sendNext();
    }
  });
  ws.on('error', (err) => (error ??= err.message));
  ws.once('close', (code) => events.closed(code, error));
  return { close: () => ws.close(1000), terminate: () => ws.terminate() };
}

function openStream(options: HoldOptions, localAddress: string | undefined, events: SessionEvents): Connection {
  const url = endpoint(options.url, 'sse');
  const get = url.protocol === 'https:' ? https.get : http.get;
  let ended = false;
  let error: string | undefined;
  let closed = false;
  const close = (code: number) => {
    if (closed) return;
    closed = true;
    events.closed(code, error);
  };
  const req = get(url, { agent: false, localAddress, headers: { accept: 'text/event-stream' }, rejectUnauthorized: !options.insecure }, (res) => {
    if (res.statusCode !== 200) {
      error = `HTTP ${res.statusCode}`;
      res.resume();
      res.once('end', () => close(1006));
      return;
    }
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        const parsed = parseJson(data) as (Hello & { tick?: number }) | undefined;
        if (parsed === undefined) continue;
        if (/^event: hello$/m.test(block)) {
          events.greeted(parsed);
          events.ready();
        } else events.message(parsed.pid);
      }
    });
    res.once('end', () => {
      ended = true;
      close(1000);
    });
    res.once('close', () => close(ended ? 1000 : 1006));
  });
  req.on('error', (err) => {
    error ??= err.message;
    close(1006);
  });
  return { close: () => req.destroy(), terminate: () => req.destroy() };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
