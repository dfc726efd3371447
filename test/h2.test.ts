/**
 * HTTPS and HTTP/2: real `cluster-demo serve --tls / --h2` processes and in-process clusters, real curl,
 * node:http2 and raw TLS clients on 127.0.0.1. Under rr (the file's policy).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runProbe, type ProbeOptions } from '../src/probe/run.js';
import { renderProbeReport } from '../src/report/probe-report.js';
import { makeChalk } from '../src/report/style.js';
import { createDemoServer } from '../src/cluster/demo-server.js';
import { currentIdentity } from '../src/cluster/handler.js';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import { selfSignedCertificate } from '../src/cluster/tls/certificate.js';
import { curl as curlProgram } from './external.js';
import { lines, runCli, waitFor } from './helpers.js';

const servers: SpawnedServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGTERM', 10_000)));
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function serve(args: string[]): Promise<SpawnedServer> {
  const server = await spawnServe(['--port', '0', '--workers', '2', ...args]);
  servers.push(server);
  return server;
}

const curl = curlProgram.path;
const run = promisify(execFile);

describe.skipIf(!curl)('serve --h2 with curl', () => {
  it('--http2 and --http1.1 both get 200 with x-worker-pid; HTTP/2 sends no connection header', async () => {
    const server = await serve(['--h2']);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ready = server.events().find((e) => e.type === 'ready');
    expect(ready).toMatchObject({ protocol: 'h2', certificate: { selfSigned: true, subjectAltName: expect.stringContaining('IP Address:127.0.0.1') } });
    for (const [flag, version] of [['--http2', '2'], ['--http1.1', '1.1']] as const) {
      const { stdout } = await run(curl!, ['-sk', flag, '-D', '-', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${server.url}/pid`]);
      const headers = stdout.toLowerCase();
      expect(stdout.trim().endsWith(`${version} 200`), stdout).toBe(true);
      expect(server.readyPids).toContain(Number(/^x-worker-pid: (\d+)/m.exec(headers)?.[1]));
      // HTTP/2 forbids the header; Node's HTTP/1.1 sends "connection: keep-alive".
      expect(/^connection:/m.test(headers), headers).toBe(version === '1.1');
    }
  });

  it('--tls with the user\'s --cert/--key: HTTPS over HTTP/1.1 only; a key that does not fit is one line, exit 2', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-cert-'));
    dirs.push(dir);
    const [mine, other] = await Promise.all([selfSignedCertificate(), selfSignedCertificate()]);
    writeFileSync(path.join(dir, 'cert.pem'), mine.cert);
    writeFileSync(path.join(dir, 'key.pem'), mine.key);
    writeFileSync(path.join(dir, 'other-key.pem'), other.key);
    const server = await serve(['--tls', '--cert', path.join(dir, 'cert.pem'), '--key', path.join(dir, 'key.pem')]);
    expect(server.events().find((e) => e.type === 'ready')).toMatchObject({ protocol: 'https', certificate: { selfSigned: false } });
    const { stdout } = await run(curl!, ['-s', '--cacert', path.join(dir, 'cert.pem'), '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `${server.url}/pid`]);
    // curl asked for HTTP/2; the server offers HTTP/1.1 only.
    expect(stdout).toBe('1.1 200');

    const bad = await runCli(['serve', '--tls', '--port', '0', '--cert', path.join(dir, 'cert.pem'), '--key', path.join(dir, 'other-key.pem')]);
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)[0]).toMatch(/^error: --key: .*other-key\.pem does not fit .*cert\.pem/);
    const unpaired = await runCli(['serve', '--h2', '--cert', path.join(dir, 'cert.pem')]);
    expect(unpaired.code).toBe(2);
    expect(lines(unpaired.stderr)[0]).toBe('error: --cert and --key go together (the certificate and its private key)');
  });
});

const probeBase: ProbeOptions = { workers: 4, sched: 'rr', concurrency: 50, route: 'pid', requests: 600, n: 1000, timeoutMs: 10_000, keepAlive: false, retries: 0, reload: false, h2: true };

describe('probe --h2: HTTP/2 streams over few connections', () => {
  it('1 connection, 50 concurrent streams → 1 PID; 8 connections → every worker', async () => {
    const one = await runProbe({ ...probeBase, connections: 1 });
    expect(one).toMatchObject({ protocol: 'h2', connections: 1, allOk: true, allWorkersServed: false });
    expect(one.routes[0]).toMatchObject({ protocol: 'h2', transport: 'h2', workersSeen: 1, ok: 600 });
    const eight = await runProbe({ ...probeBase, connections: 8 });
    expect(eight).toMatchObject({ protocol: 'h2', connections: 8, allOk: true, allWorkersServed: true });
    expect(eight.routes[0]!.workersSeen).toBe(4);
    // The server's own counts agree with the streams' responses.
    expect(eight.serverCounts?.mismatches).toEqual([]);
  });

  it('a rolling restart under HTTP/2 load loses no request: streams a GOAWAY refused are sent again, and counted', async () => {
    const result = await runProbe({ ...probeBase, workers: 2, requests: undefined, durationMs: 1200, connections: 4, reload: true });
    expect(result.reload?.replaced).toHaveLength(2);
    const route = result.routes[0]!;
    expect(route.failed).toBe(0);
    // Streams a GOAWAY refused were sent again, not counted as failed; the report says how many (h2-sender.test.ts
    // forces refusals to check the counting itself).
    expect(route.requests).toBe(route.ok);
    const text = renderProbeReport(result, makeChalk(false));
    expect(text.includes('sent again after a GOAWAY'), text).toBe(route.goawayRetries > 0);
    if (route.goawayRetries > 0) expect(text).toContain(`${route.goawayRetries} sent again after a GOAWAY`);
    // The new workers took the streams once the old sessions went away.
    const newPids = result.reload!.replaced.map((r) => r.newPid);
    expect(route.workers.some((w) => newPids.includes(w.pid!))).toBe(true);
  });

  it('a server that does not speak HTTP/2 is one line, not a silent fallback', async () => {
    const server = await serve(['--tls']);
    const result = await runCli(['probe', '--url', server.url, '--h2', '--insecure', '--requests', '10']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([`error: ${server.url} does not speak HTTP/2: its TLS handshake chose http/1.1; leave out --h2`]);
  });
});

/** One hostile input over TLS (or instead of it); resolves when the server has closed or answered. */
function hostile(port: number, kind: number, seed: number): Promise<void> {
  return new Promise((resolve) => {
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (seed * 31 + i * 17) & 0xff));
    const done = () => resolve();
    if (kind === 0) {
      // Not TLS at all: random bytes where a ClientHello should be.
      const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes(64 + (seed % 512))));
      socket.resume(); // read whatever comes back, so the server's close is seen
      socket.on('error', done);
      socket.on('close', done);
      socket.setTimeout(3000, () => socket.destroy());
      return;
    }
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: kind === 1 ? ['http/1.1'] : ['h2'] }, () => {
      if (kind === 1) socket.write(bytes(32 + (seed % 2048))); // garbage after an HTTP/1.1 handshake
      else if (kind === 2) socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), bytes(9 + (seed % 300))])); // the preface, then invalid frames
      else socket.write(bytes(24 + (seed % 100))); // no preface at all
      socket.end();
    });
    socket.resume();
    socket.on('error', done);
    socket.on('close', done);
    socket.setTimeout(3000, () => socket.destroy());
  });
}

describe('serve --h2 under hostile input', () => {
  it('1,000 fuzzed TLS / HTTP/2 inputs (garbage for a handshake, after it, invalid frames, oversized headers): every worker lives', async () => {
    const server = await serve(['--h2']);
    const port = Number(new URL(server.url).port);
    for (let batch = 0; batch < 50; batch++) {
      await Promise.all(Array.from({ length: 19 }, (_, i) => hostile(port, (batch + i) % 4, batch * 19 + i)));
    }
    // 50 oversized header blocks over real HTTP/2 sessions.
    await Promise.all(Array.from({ length: 50 }, () => new Promise<void>((resolve) => {
      const session = http2.connect(server.url, { rejectUnauthorized: false });
      session.on('error', () => resolve());
      const stream = session.request({ ':path': '/pid', 'x-big': 'x'.repeat(100_000) }, { endStream: true });
      stream.on('error', () => undefined);
      stream.on('close', () => {
        session.destroy();
        resolve();
      });
    })));
    expect(server.events().filter((e) => e.type === 'worker-died')).toEqual([]);
    // Still serving, over HTTP/2, from the same two workers.
    const session = http2.connect(server.url, { rejectUnauthorized: false });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/pid' }, { endStream: true });
        stream.on('response', (headers) => resolve(Number(headers['x-worker-pid'])));
        stream.on('error', reject);
        stream.resume();
      });
      expect(server.readyPids).toContain(pid);
    } finally {
      session.close();
    }
  });

  it('a client that never finishes its TLS handshake is cut off after the handshake timeout', async () => {
    const material = await selfSignedCertificate();
    const server = createDemoServer({ identity: currentIdentity(0, process.pid), maxN: 1000, protocol: 'h2', tls: material, handshakeTimeoutMs: 300 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const started = Date.now();
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.on('close', resolve));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      server.close();
    }
  });
});

describe('serve --h2: the stats routes and the JSON log work over TLS too', () => {
  it('/_cluster/stats over HTTP/2 counts HTTP/2 requests', async () => {
    const server = await serve(['--h2']);
    const session = http2.connect(server.url, { rejectUnauthorized: false });
    const get = (p: string) =>
      new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': p }, { endStream: true });
        let body = '';
        stream.setEncoding('utf8');
        stream.on('data', (c: string) => (body += c));
        stream.on('end', () => resolve(body));
        stream.on('error', reject);
      });
    try {
      for (let i = 0; i < 25; i++) await get('/pid');
      const doc = await waitFor('the 25 requests in the stats', async () => {
        const d = JSON.parse(await get('/_cluster/stats')) as { totals: { requests: number } };
        return d.totals.requests === 25 ? d : undefined;
      });
      expect(doc.totals.requests).toBe(25);
    } finally {
      session.close();
    }
  });
});
