/**
 * HTTP/2: the lanes' requests go out as streams over `connections` sessions (default 1), as a browser sends
 * everything to one origin over one connection. The cluster hands out connections, so one session meets one
 * worker however many streams it carries. Written on node:http2 (not undici's allowH2) so that the sessions
 * are ours: how many, which one each stream takes, and what a GOAWAY does to them.
 *
 * A GOAWAY (a worker draining in a rolling restart) refuses the streams the server had not started: by the
 * protocol they were not processed, so they are sent again on a new session (another worker). Each such retry
 * is counted (`goawayRetries`), never hidden.
 */
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { failure, type Outcome } from './collector.js';
import type { LoadOptions } from './engine.js';
import { pidFromBody } from './response-parser.js';
import type { Done, Sender } from './sender.js';
import { IDENTITY_REQUEST_HEADER, IDENTITY_REQUEST_VALUE } from '../core/identity.js';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;
/** A stream refused before it was processed is sent again at most this many times. */
const MAX_REFUSED_RETRIES = 5;

/** Errors that mean the server did not process the stream, so sending it again is safe (RFC 9113 §8.7). */
function refused(err: NodeJS.ErrnoException, stream?: http2.ClientHttp2Stream): boolean {
  if (err.code === 'ERR_HTTP2_GOAWAY_SESSION' || err.code === 'ERR_HTTP2_INVALID_SESSION') return true;
  return stream?.rstCode === NGHTTP2_REFUSED_STREAM;
}

/** A session of ours: its streams still open, whether it is going away, and how to end it for good. */
interface SessionState {
  open: number;
  leaving: boolean;
  end(): void;
}

class H2Sender implements Sender {
  readonly transport = 'h2' as const;
  readonly protocol = 'h2' as const;
  goawayRetries = 0;
  /** The session each slot sends on; undefined until opened, or once its session went away. */
  private readonly sessions: Array<http2.ClientHttp2Session | undefined>;
  /** Every session not yet closed, those going away included. */
  private readonly states = new Map<http2.ClientHttp2Session, SessionState>();
  private readonly connectOptions: http2.SecureClientSessionOptions;
  private next = 0;

  constructor(private readonly options: LoadOptions) {
    this.sessions = new Array(Math.max(1, options.connections ?? 1));
    this.connectOptions = { rejectUnauthorized: !options.insecure, ca: options.ca, settings: { enablePush: false } };
  }

  send(done: Done): void {
    this.attempt(done, 0);
  }

  async close(): Promise<void> {
    // Every stream is done by now (the load has finished): end the sessions, those going away included.
    for (const state of this.states.values()) state.end();
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** The session of slot i, opened (again) when it has none or its old one is going away. */
  private session(i: number): http2.ClientHttp2Session {
    const current = this.sessions[i];
    if (current && !current.closed && !current.destroyed) return current;
    // The TLS socket, kept: after a GOAWAY, Node's session.destroy() leaves it open (seen on 24), so it is ended too.
    let socket: { destroy(): void } | undefined;
    const opened = http2.connect(this.options.target.origin, this.connectOptions, (_session, s) => (socket = s));
    const state: SessionState = {
      open: 0,
      leaving: false,
      end: () => setImmediate(() => {
        opened.destroy();
        socket?.destroy();
      }),
    };
    this.states.set(opened, state);
    const forget = () => this.sessions[i] === opened && (this.sessions[i] = undefined);
    // Going away: no new streams on it, and ended once its open streams are done. (Node's close() after a
    // server's GOAWAY never completes: the session would keep its socket, and the server its own.)
    opened.on('goaway', () => {
      forget();
      state.leaving = true;
      if (state.open === 0) state.end();
    });
    opened.on('close', () => {
      forget();
      this.states.delete(opened);
    });
    opened.on('error', forget);
    this.sessions[i] = opened;
    return opened;
  }

  private attempt(done: Done, attempt: number): void {
    const slot = this.next++ % this.sessions.length;
    let session: http2.ClientHttp2Session;
    let stream: http2.ClientHttp2Stream;
    try {
      session = this.session(slot);
      stream = session.request({ ':path': this.options.path, ':method': 'GET', 'user-agent': 'cluster-demo', [IDENTITY_REQUEST_HEADER]: IDENTITY_REQUEST_VALUE }, { endStream: true });
    } catch (err) {
      this.sessions[slot] = undefined;
      if (refused(err as NodeJS.ErrnoException) && attempt < MAX_REFUSED_RETRIES) return this.retry(done, attempt);
      return done(failure((err as NodeJS.ErrnoException).code ?? 'h2 error'), undefined);
    }
    const state = this.states.get(session)!;
    state.open++;
    stream.once('close', () => {
      if (--state.open === 0 && state.leaving) state.end();
    });
    this.watch(stream, done, attempt);
  }

  /** Reads one stream's response; settles it once, when the stream closes. */
  private watch(stream: http2.ClientHttp2Stream, done: Done, attempt: number): void {
    let outcome: Outcome | undefined;
    let wasRefused = false;
    let body = '';
    stream.setTimeout(this.options.timeoutMs, () => stream.close(NGHTTP2_CANCEL));
    stream.on('response', (headers) => {
      const primary = headers['x-primary-pid'];
      outcome = { status: Number(headers[':status']), pid: Number(headers['x-worker-pid']) || undefined, host: headers['x-hostname'] as string | undefined, primaryPid: primary !== undefined ? Number(primary) : undefined, error: undefined };
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (outcome && outcome.pid === undefined && body.length < 4096) body += chunk;
    });
    stream.on('end', () => {
      if (outcome && outcome.pid === undefined) outcome.pid = pidFromBody(body);
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // 'close' follows and settles the stream; a refused one is sent again there.
      if (refused(err, stream)) wasRefused = true;
      else outcome = failure(err.code ?? err.message);
    });
    stream.on('close', () => {
      if (outcome && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) return done(outcome, performance.now());
      if (!outcome && (wasRefused || stream.rstCode === NGHTTP2_REFUSED_STREAM) && attempt < MAX_REFUSED_RETRIES) return this.retry(done, attempt);
      done(outcome ?? failure(stream.rstCode === NGHTTP2_CANCEL ? 'timeout' : `h2 stream reset (${stream.rstCode})`), undefined);
    });
  }

  private retry(done: Done, attempt: number): void {
    this.goawayRetries++;
    this.attempt(done, attempt + 1);
  }
}

export function openH2Sender(options: LoadOptions): Sender {
  return new H2Sender(options);
}
