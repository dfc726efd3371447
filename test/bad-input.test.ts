/**
 * Bad input and slow clients against a real cluster (startCluster, 2 workers, loopback): every malformed or
 * odd request gets a 4xx with a one-line body, idle half-open connections are closed by the header timeout
 * while other clients are served, and no worker is hurt (same PIDs, no deaths) by any of it.
 */
import nodeCluster from 'node:cluster';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/engine.js';
import { startCluster, type ClusterEvent, type ClusterOptions, type RunningCluster } from '../src/cluster/primary.js';
import { request, waitFor, workerPid } from './helpers.js';

const started: RunningCluster[] = [];
const sockets = new Set<net.Socket>();

async function boot(options: ClusterOptions = {}): Promise<RunningCluster> {
  const running = await startCluster({ port: 0, host: '127.0.0.1', graceMs: 3_000, ...options });
  started.push(running);
  return running;
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(started.splice(0).map((running) => running.stop()));
  await waitFor('node:cluster to forget every worker', () => (Object.keys(nodeCluster.workers ?? {}).length === 0 ? true : undefined), 5_000);
});

const sortNum = (values: Iterable<number>) => [...values].sort((a, b) => a - b);

function nodeClusterPids(): number[] {
  return sortNum(Object.values(nodeCluster.workers ?? {}).map((worker) => worker!.process.pid!));
}

interface RawReply {
  status: number;
  statusLine: string;
  head: string;
  body: string;
}

/** Writes bytes exactly as given on a fresh TCP connection and reads until the server closes it. */
function rawRequest(port: number, bytes: Buffer, timeoutMs = 5_000): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    sockets.add(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server may reset a connection it answered while request bytes were still unread: the reply counts.
    socket.on('error', (err) => (chunks.length === 0 ? reject(err) : undefined));
    socket.on('close', () => {
      clearTimeout(timer);
      sockets.delete(socket);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const head = split === -1 ? text : text.slice(0, split);
      const statusLine = head.split('\r\n')[0] ?? '';
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(statusLine);
      if (!match) return reject(new Error(`no HTTP response (got ${JSON.stringify(text.slice(0, 80))})`));
      resolve({ status: Number(match[1]), statusLine, head, body: split === -1 ? '' : text.slice(split + 4) });
    });
    socket.write(bytes);
  });
}

/** A complete request: the request line as raw bytes, then Host and Connection: close. */
function rawGet(requestLine: Buffer | string, extraHeaders = ''): Buffer {
  const line = typeof requestLine === 'string' ? Buffer.from(requestLine, 'latin1') : requestLine;
  return Buffer.concat([line, Buffer.from(`\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extraHeaders}\r\n`, 'latin1')]);
}

describe('bad input never hurts the server', () => {
  it('answers every case of the corpus with a 4xx and a one-line reason; the workers keep their PIDs', async () => {
    const events: ClusterEvent[] = [];
    const running = await boot({ workers: 2, onEvent: (event) => events.push(event) });
    const pidsBefore = sortNum(running.workers.map((w) => w.pid));
    expect(nodeClusterPids()).toEqual(pidsBefore);

    const digits400 = '9'.repeat(400);
    const cases: Array<{ name: string; bytes: Buffer; status: number; body: RegExp }> = [
      { name: '/api/ (empty n)', bytes: rawGet('GET /api/ HTTP/1.1'), status: 400, body: /^missing n: use \/api\/<digits>/ },
      { name: '/api/abc', bytes: rawGet('GET /api/abc HTTP/1.1'), status: 400, body: /^n must be plain decimal digits \(got "abc"\)$/ },
      { name: '/api/-1', bytes: rawGet('GET /api/-1 HTTP/1.1'), status: 400, body: /^n must be plain decimal digits \(got "-1"\)$/ },
      { name: '/api/1.5', bytes: rawGet('GET /api/1.5 HTTP/1.1'), status: 400, body: /^n must be plain decimal digits \(got "1\.5"\)$/ },
      { name: '/api/1e3', bytes: rawGet('GET /api/1e3 HTTP/1.1'), status: 400, body: /^n must be plain decimal digits \(got "1e3"\)$/ },
      { name: '/api/0x10', bytes: rawGet('GET /api/0x10 HTTP/1.1'), status: 400, body: /^n must be plain decimal digits \(got "0x10"\)$/ },
      { name: '/api/<400 digits>', bytes: rawGet(`GET /api/${digits400} HTTP/1.1`), status: 400, body: /^n is too large \(got 400 digits; at most 9007199254740991\)$/ },
      { name: '/api/%00', bytes: rawGet('GET /api/%00 HTTP/1.1'), status: 400, body: /^n must be plain decimal digits \(got "%00"\)$/ },
      { name: '/api/%C3%A9 (percent-encoded UTF-8)', bytes: rawGet('GET /api/%C3%A9 HTTP/1.1'), status: 400, body: /^n must be plain decimal digits \(got "%C3%A9"\)$/ },
      { name: '/api/<raw UTF-8 bytes>', bytes: rawGet(Buffer.from('GET /api/é HTTP/1.1', 'utf8')), status: 400, body: /^bad request: invalid request target/ },
      { name: '/<raw UTF-8 bytes>', bytes: rawGet(Buffer.from('GET /café HTTP/1.1', 'utf8')), status: 400, body: /^bad request: invalid request target/ },
      { name: '/api/<raw NUL>', bytes: rawGet('GET /api/\x00 HTTP/1.1'), status: 400, body: /^bad request: invalid request target/ },
      { name: '8 KB /api/ path', bytes: rawGet(`GET /api/${'1'.repeat(8 * 1024)} HTTP/1.1`), status: 400, body: /^n is too large \(got 8192 digits/ },
      { name: '8 KB unknown path', bytes: rawGet(`GET /${'a'.repeat(8 * 1024)} HTTP/1.1`), status: 404, body: /^not found: \/a{79}… \(routes: \/, \/pid, \/api\/:n, \/ws, \/sse\)$/ },
      { name: '20 KB header', bytes: rawGet('GET /pid HTTP/1.1', `X-Big: ${'a'.repeat(20 * 1024)}\r\n`), status: 431, body: /^request headers too large$/ },
      { name: 'control character in a header', bytes: rawGet('GET /pid HTTP/1.1', 'X-Odd: a\x01b\r\n'), status: 400, body: /^bad request: invalid character in a header$/ },
      { name: 'PROPFIND /pid', bytes: rawGet('PROPFIND /pid HTTP/1.1'), status: 405, body: /^method PROPFIND not allowed: use GET or HEAD$/ },
      { name: 'DELETE /api/10', bytes: rawGet('DELETE /api/10 HTTP/1.1'), status: 405, body: /^method DELETE not allowed: use GET or HEAD$/ },
      { name: 'PROPFIND /nope', bytes: rawGet('PROPFIND /nope HTTP/1.1'), status: 404, body: /^not found: \/nope/ },
      { name: 'garbage method token', bytes: rawGet('G@T /pid HTTP/1.1'), status: 400, body: /^bad request: unknown method/ },
      { name: 'unknown method BREW', bytes: rawGet('BREW /pid HTTP/1.1'), status: 400, body: /^bad request: unknown method/ },
      { name: 'HTTP/9.9', bytes: rawGet('GET /pid HTTP/9.9'), status: 400, body: /^bad request: unsupported HTTP version$/ },
      { name: 'TLS hello on the plain port', bytes: Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 'latin1'), status: 400, body: /^bad request: / },
    ];

    for (const c of cases) {
      const reply = await rawRequest(running.port, c.bytes);
      expect(reply.status, c.name).toBe(c.status);
      expect(reply.body, c.name).toMatch(c.body);
      expect(reply.body.length, c.name).toBeLessThan(200);
      expect(reply.body, c.name).not.toContain('\n');
      expect(reply.head.toLowerCase(), c.name).toMatch(/content-type: text\/plain/);
    }

    // The same corpus through a normal client, in parallel, JSON asked for: JSON errors, still 4xx.
    const viaClient = await Promise.all(
      ['/api/', '/api/abc', '/api/-1', '/api/1.5', '/api/1e3', '/api/0x10', `/api/${digits400}`, '/api/%00', '/api/%C3%A9'].map((path) =>
        request(running.url, path, { headers: { accept: 'application/json' } }),
      ),
    );
    for (const reply of viaClient) {
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toMatchObject({ error: expect.any(String), pid: workerPid(reply) });
    }

    // Afterwards: the same workers, all alive, none died, and they still serve.
    expect(events.filter((e) => e.type === 'worker-died')).toEqual([]);
    expect(sortNum(running.workers.map((w) => w.pid))).toEqual(pidsBefore);
    expect(nodeClusterPids()).toEqual(pidsBefore);
    for (const pid of pidsBefore) expect(() => process.kill(pid, 0)).not.toThrow();
    const after = await Promise.all(Array.from({ length: 10 }, () => request(running.url, '/pid')));
    for (const reply of after) {
      expect(reply.status).toBe(200);
      expect(pidsBefore).toContain(workerPid(reply));
    }
  });
});

describe('slow clients', () => {
  it('500 connections that never finish their headers do not stop a probe, and the header timeout closes them', async () => {
    const headersTimeoutMs = 1_500;
    const events: ClusterEvent[] = [];
    const running = await boot({ workers: 2, headersTimeoutMs, onEvent: (event) => events.push(event) });
    const pidsBefore = sortNum(running.workers.map((w) => w.pid));

    interface Slow {
      openedAt: number;
      closedAt?: number;
      received: string;
    }
    const slow: Slow[] = [];
    const allClosed: Array<Promise<void>> = [];
    // Opened in batches of 50 so the listen backlog is never the limit; each sends half a request line.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from(
          { length: 50 },
          () =>
            new Promise<void>((connected, failed) => {
              const entry: Slow = { openedAt: Date.now(), received: '' };
              slow.push(entry);
              const socket = net.connect({ host: '127.0.0.1', port: running.port });
              sockets.add(socket);
              socket.setEncoding('latin1');
              socket.on('data', (chunk: string) => (entry.received += chunk));
              socket.on('error', () => {});
              allClosed.push(
                new Promise<void>((closed) =>
                  socket.once('close', () => {
                    entry.closedAt = Date.now();
                    sockets.delete(socket);
                    closed();
                  }),
                ),
              );
              socket.once('connect', () => {
                socket.write('GET /pid HT');
                connected();
              });
              socket.once('error', failed);
            }),
        ),
      );
    }
    expect(slow).toHaveLength(500);
    const openAtLoadStart = slow.filter((s) => s.closedAt === undefined).length;

    // Meanwhile a probe's load: 500 requests on fresh connections, 20 at a time. Every one succeeds.
    const recording = await runLoad({ target: new URL(running.url), path: '/pid', concurrency: 20, requests: 500, keepAlive: false, timeoutMs: 5_000, retries: 0 });
    expect(recording.collector.completed).toBe(500);
    expect(recording.collector.failed).toBe(0);
    expect(recording.collector.ok).toBe(500);
    expect(sortNum([...recording.collector.workers.values()].map((w) => w.pid!))).toEqual(pidsBefore);
    // The load started while every slow connection was held open.
    expect(openAtLoadStart).toBe(500);

    // The server closes every slow connection itself, soon after its header timeout, with a 408.
    const bound = headersTimeoutMs + 3_000;
    await Promise.race([Promise.all(allClosed), new Promise((resolve) => setTimeout(resolve, bound + 1_000))]);
    const stillOpen = slow.filter((s) => s.closedAt === undefined).length;
    expect(stillOpen, 'slow connections the server never closed').toBe(0);
    for (const s of slow) {
      const lifetime = s.closedAt! - s.openedAt;
      expect(lifetime).toBeGreaterThanOrEqual(headersTimeoutMs - 100);
      expect(lifetime).toBeLessThan(bound);
      expect(s.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*\r\n\r\nrequest timed out$/);
    }

    expect(events.filter((e) => e.type === 'worker-died')).toEqual([]);
    expect(sortNum(running.workers.map((w) => w.pid))).toEqual(pidsBefore);
    const after = await request(running.url, '/pid');
    expect(after.status).toBe(200);
  });
});
