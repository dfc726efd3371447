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

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL } = http2.constants;
/** A stream refused before it was processed is sent again at most this many times. */
const MAX_REFUSED_RETRIES = 5;

/** Errors that mean the server did not process the stream, so sending it again is safe (RFC 9113 §8.7). */
function refused(err: NodeJS.ErrnoException & { errno?: number }, stream?: http2.ClientHttp2Stream): boolean {
  if (err.code === 'ERR_HTTP2_GOAWAY_SESSION' || err.code === 'ERR_HTTP2_INVALID_SESSION') return true;
  return stream?.rstCode === NGHTTP2_REFUSED_STREAM;
}

export function openH2Sender(options: LoadOptions): Sender {
  const count = Math.max(1, options.connections ?? 1);
  const sessions: Array<http2.ClientHttp2Session | undefined> = new Array(count);
  const connectOptions: http2.SecureClientSessionOptions = {
    rejectUnauthorized: !options.insecure,
    ca: options.ca,
    settings: { enablePush: false },
  };
  let next = 0;
  let goawayRetries = 0;

  /** The session of slot i, opened (again) when it has none or its old one is going away. */
  function session(i: number): http2.ClientHttp2Session {
    const current = sessions[i];
    if (current && !current.closed && !current.destroyed) return current;
    const opened = http2.connect(options.target.origin, connectOptions);
    const forget = () => sessions[i] === opened && (sessions[i] = undefined);
    opened.on('goaway', forget);
    opened.on('close', forget);
    opened.on('error', forget);
    sessions[i] = opened;
    return opened;
  }

  function send(done: Done, attempt = 0): void {
    const slot = next++ % count;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session(slot).request({ ':path': options.path, ':method': 'GET', 'user-agent': 'cluster-demo' }, { endStream: true });
    } catch (err) {
      sessions[slot] = undefined;
      if (refused(err as NodeJS.ErrnoException) && attempt < MAX_REFUSED_RETRIES) return retry(done, attempt);
      return done(failure((err as NodeJS.ErrnoException).code ?? 'h2 error'), undefined);
    }
    let outcome: Outcome | undefined;
    let wasRefused = false;
    let body = '';
    stream.setTimeout(options.timeoutMs, () => stream.close(NGHTTP2_CANCEL));
    stream.on('response', (headers) => {
      const pid = Number(headers['x-worker-pid']) || undefined;
      const primary = headers['x-primary-pid'];
      outcome = { status: Number(headers[':status']), pid, host: headers['x-hostname'] as string | undefined, primaryPid: primary !== undefined ? Number(primary) : undefined, error: undefined };
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      if (outcome && outcome.pid === undefined && body.length < 4096) body += chunk;
    });
    stream.on('end', () => {
      if (outcome && outcome.pid === undefined) outcome.pid = pidFromBody(body);
    });
    stream.on('close', () => {
      if (outcome && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) return done(outcome, performance.now());
      if (!outcome && (wasRefused || stream.rstCode === NGHTTP2_REFUSED_STREAM) && attempt < MAX_REFUSED_RETRIES) return retry(done, attempt);
      done(outcome ?? failure(stream.rstCode === NGHTTP2_CANCEL ? 'timeout' : `h2 stream reset (${stream.rstCode})`), undefined);
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      // 'close' follows and settles the stream; a refused one is sent again there.
      if (refused(err, stream)) wasRefused = true;
      else outcome = failure(err.code ?? err.message);
    });
  }

  function retry(done: Done, attempt: number): void {
    goawayRetries++;
    send(done, attempt + 1);
  }

  return {
    transport: 'h2',
    protocol: 'h2',
    get goawayRetries() {
      return goawayRetries;
    },
    send: (done) => send(done),
    close: async () => {
      await Promise.all(sessions.map((s) => (s && !s.closed ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)));
    },
  };
}
