/**
 * Long-lived connections on real `cluster-demo serve` clusters (2 workers), over loopback: WebSockets at /ws pinned
 * to the worker that accepted them, spread by connection; /sse streams; both counted in /_cluster/stats and
 * /metrics; a graceful stop closes them properly; hostile WebSocket input ends only the sender's socket.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClusterStatsDoc } from '../src/cluster/counts/document.js';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import { HeldClients, reconnectDelayMs } from '../src/load/long-lived-clients.js';
import { addressHash, pickByAddress, pickLeastConnections } from '../src/cluster/balancer.js';
import { longLivedExitCode, runLongLivedProbe, sourceAddress, type LongLivedProbeOptions } from '../src/probe/long-lived-run.js';
import { medianOrNull, wsPoliciesVerdict } from '../src/compare/ws-policies.js';
import { renderLongLivedReport } from '../src/report/long-lived-report.js';
import { makeChalk } from '../src/report/style.js';
import { isAlive, request, runCli, waitFor } from './helpers.js';
import { expectSchema } from './schema.js';

const servers: SpawnedServer[] = [];
const held: HeldClients[] = [];
const raw: net.Socket[] = [];
afterEach(async () => {
  for (const socket of raw.splice(0)) socket.destroy();
  await Promise.all(held.splice(0).map((h) => h.close(1_000)));
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGTERM', 10_000)));
});

async function serve(): Promise<SpawnedServer> {
  const server = await spawnServe(['--port', '0', '--workers', '2']);
  servers.push(server);
  return server;
}

async function exactStats(url: string): Promise<ClusterStatsDoc> {
  const doc = JSON.parse((await request(url, '/_cluster/stats?exact')).body) as ClusterStatsDoc;
  expectSchema('cluster-stats', doc);
  return doc;
}

async function hold(options: { url: string; connections: number; concurrency: number; messages: number }): Promise<HeldClients> {
  const clients = new HeldClients({ kind: 'ws', ...options });
  held.push(clients);
  await clients.open();
  return clients;
}

const openPerPid = (doc: ClusterStatsDoc) => new Map(doc.workers.filter((w) => w.state !== 'exited').map((w) => [w.pid, w.longLived?.ws.open ?? 0]));

function tally(pids: Array<number | undefined>): Map<number, number> {
  const counts = new Map<number, number>();
  for (const pid of pids) if (pid !== undefined) counts.set(pid, (counts.get(pid) ?? 0) + 1);
  return counts;
}

describe('WebSockets and event streams under the cluster', () => {
  it("200 sockets spread over every worker; every message of one socket meets its worker; stats and /metrics count them open", async () => {
    const server = await serve();
    const sockets = await hold({ url: server.url, connections: 200, concurrency: 20, messages: 5 });
    const records = sockets.slots.map((s) => s.sessions[0]!);
    expect(records.filter((r) => r.error !== undefined)).toEqual([]);
    expect(records.every((r) => r.messages === 5 && r.foreign === 0)).toBe(true);
    const perPid = tally(records.map((r) => r.pid));
    expect([...perPid.keys()].sort()).toEqual([...server.readyPids].sort());
    // rr hands connections out in turn: an even split, give or take the sockets in flight at each hand-off.
    for (const n of perPid.values()) expect(n).toBeGreaterThanOrEqual(80);

    const doc = await exactStats(server.url);
    expect(openPerPid(doc)).toEqual(perPid);
    const messages = doc.workers.reduce((sum, w) => sum + (w.longLived?.ws.messages ?? 0), 0);
    expect(messages).toBe(1_000);
    const metrics = (await request(server.url, '/metrics')).body;
    for (const [pid, n] of perPid) expect(metrics).toMatch(new RegExp(`^cluster_demo_long_lived_open\\{worker_pid="${pid}",worker_id="\\d+",kind="websocket"\\} ${n}$`, 'm'));

    await sockets.close();
    await waitFor('every socket counted closed', async () => ([...openPerPid(await exactStats(server.url)).values()].every((n) => n === 0) ? true : undefined), 5_000);
  });

  it('/sse: the worker greets and ticks; GET /ws without an upgrade is a 426; SIGTERM ends every stream and closes every socket with 1001', async () => {
    const server = await serve();
    const sockets = await hold({ url: server.url, connections: 20, concurrency: 10, messages: 1 });
    const streams = await Promise.all(Array.from({ length: 6 }, () => openStream(server.url)));
    await waitFor('a tick on every stream', () => (streams.every((s) => s.text.includes('"tick":')) ? true : undefined), 5_000);
    for (const s of streams) {
      expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(s.text).toMatch(new RegExp(`^retry: 1000\nevent: hello\ndata: \\{"pid":${s.headers['x-worker-pid']},`));
      expect(s.text).toContain(`data: {"pid":${s.headers['x-worker-pid']},"workerId":`);
    }
    const doc = await exactStats(server.url);
    expect(doc.workers.reduce((sum, w) => sum + (w.longLived?.sse.open ?? 0), 0)).toBe(6);
    // The streams are not requests in flight.
    expect(doc.workers.reduce((sum, w) => sum + w.inFlight, 0)).toBe(0);
    const plain = await request(server.url, '/ws');
    expect(plain.status).toBe(426);

    const stopped = server.stop('SIGTERM', 15_000);
    expect(await sockets.allClosed(10_000)).toBe(true);
    expect(sockets.slots.map((s) => s.sessions[0]!.closeCode)).toEqual(sockets.slots.map(() => 1001));
    await waitFor('every stream ended', () => (streams.every((s) => s.ended) ? true : undefined), 10_000);
    expect(streams.every((s) => s.error === undefined)).toBe(true);
    expect((await stopped).code).toBe(0);
    for (const pid of server.readyPids) expect(isAlive(pid)).toBe(false);
  });

  it('1,000 malformed upgrades and frames kill no worker and leave the other sockets open', async () => {
    const server = await serve();
    const bystanders = await hold({ url: server.url, connections: 20, concurrency: 10, messages: 1 });
    const { port } = new URL(server.url);
    const kinds = Object.keys(HOSTILE);
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 1_000 / 50; round++) {
      await Promise.all(Array.from({ length: 50 }, async (_, i) => {
        const kind = kinds[(round * 50 + i) % kinds.length]!;
        const ended = await hostile(Number(port), HOSTILE[kind]!);
        outcomes.set(`${kind}: ${ended}`, (outcomes.get(`${kind}: ${ended}`) ?? 0) + 1);
      }));
    }
    // Every hostile connection was ended by the server (an error status, a close frame, or a close), none hung.
    expect([...outcomes.keys()].filter((k) => k.endsWith('hung'))).toEqual([]);
    expect(bystanders.openSessions()).toHaveLength(20);
    const doc = await exactStats(server.url);
    expect(doc.workers.filter((w) => w.state !== 'exited').map((w) => w.pid).sort()).toEqual([...server.readyPids].sort());
    expect(doc.workers.every((w) => w.restarts === 0 && w.exit === null)).toBe(true);
    expect([...openPerPid(doc).values()].reduce((a, b) => a + b, 0)).toBe(20);
  });
});

describe('probe --ws: the clients the server lets go come back', () => {
  const probe = (over: Partial<LongLivedProbeOptions>) =>
    runLongLivedProbe({ kind: 'ws', workers: 2, sched: 'rr', connections: 200, concurrency: 50, messages: 3, holdMs: 1_500, timeoutMs: 10_000, reload: false, ...over });

  it('a worker killed under 200 open sockets: its clients reconnect, and under rr the survivor ends with more (a measured imbalance)', async () => {
    const result = await probe({ chaosMs: 600, holdMs: 1_000 });
    expect(longLivedExitCode(result)).toBe(0);
    expect(result.pinned.oneWorker).toBe(result.pinned.connections);
    const d = result.disruption!;
    expect(d.killed).toHaveLength(1);
    expect(d.unconnected).toBe(0);
    expect(d.reconnects).toBeGreaterThanOrEqual(50);
    expect(d.closeCodes['1006']).toBe(d.serverClosed);
    // Both workers held connections at the start, but not necessarily evenly: Node's rr hands each connection to
    // the next *free* worker (one that has acknowledged its last hand-off), so under a burst of 50 handshakes on two
    // busy cores one worker can take 60% (CI read 1.30 and 1.53). The claim is about what the kill does.
    expect(result.balance.atStart).not.toBeNull();
    // The survivor keeps every connection it had (an open connection never moves) and takes reconnects on top;
    // the reconnects (0.5–1.5 s after the kill) are dealt to the survivor and the replacement, so the survivor
    // ends with its own plus about half of the rest. Bar held: busiest ÷ least busy ≥ 1.5 at the end (null: the
    // replacement holds none): from an even start it reads about 3.
    const survivors = result.workers.filter((w) => w.openAtStart > 0 && !w.gone);
    expect(survivors).toHaveLength(1);
    expect(survivors[0]!.openAtEnd).toBeGreaterThan(survivors[0]!.openAtStart);
    expect(result.balance.atEnd === null || result.balance.atEnd >= 1.5, `balance at the end: ${result.balance.atEnd}`).toBe(true);
    const text = renderLongLivedReport(result, makeChalk(false));
    expect(text).toMatch(/✓ \d+ workers? killed: the server ended \d+ connections \(\d+× 1006 cut\), the clients reconnected \d+ times, every one holds a connection again/);
  });

  it('SIGHUP (rolling restart) with 200 open sockets: every socket gets 1001 and reconnects; every answer came from its own worker and the server counted each one', async () => {
    const result = await probe({ reload: true, holdMs: 500 });
    expect(longLivedExitCode(result)).toBe(0);
    const d = result.disruption!;
    expect(d.replaced).toHaveLength(2);
    expect(d.closeCodes['1001']).toBe(d.serverClosed);
    expect(d.serverClosed).toBeGreaterThanOrEqual(200);
    expect(d.unconnected).toBe(0);
    expect(result.pinned.foreignMessages).toBe(0);
    // Every reply a client received was counted by the worker that sent it, replaced workers included (their
    // last counts arrive before they exit): nothing acknowledged went uncounted, nothing counted twice.
    const counted = result.workers.reduce((n, w) => n + (w.server?.messages ?? 0), 0);
    expect(counted).toBe(result.pinned.messages);
    expect(result.workers.filter((w) => !w.gone).every((w) => w.openAtStart === 0)).toBe(true);
  });

  it('the CLI: probe --sse --json, a document its schema covers; --messages with --sse is a usage error', async () => {
    const run = await runCli(['probe', '--sse', '--connections', '40', '--duration', '1200ms', '--json']);
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { kind: string; opened: number; workers: Array<{ openAtStart: number; server: { open: number } | null }> };
    expectSchema('probe-long-lived', doc);
    expect(doc.kind).toBe('sse');
    expect(doc.opened).toBe(40);
    expect(doc.workers.map((w) => w.server?.open)).toEqual(doc.workers.map((w) => w.openAtStart));
    const wrong = await runCli(['probe', '--sse', '--messages', '3']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim().split('\n')[0]).toMatch(/--messages is for --ws/);
    // A user's app listens itself: the primary's own balancer cannot hand it connections.
    const app = await runCli(['serve', '--app', 'test/fixtures/apps/http.cjs', '--sched', 'least-conn']);
    expect(app.code).toBe(2);
    expect(app.stderr).toMatch(/^error: --sched least-conn hands each connection to our own server; your app listens itself: use --sched rr, none or reuseport with --app/m);
    expect(app.stderr).not.toMatch(/\n\s+at /);
  });

  it("reconnect backoff, Socket.IO's default: 1 s doubling to 5 s, ±50% at random", () => {
    expect([0, 1, 2, 3, 9].map((f) => reconnectDelayMs(f, 0))).toEqual([500, 1000, 2000, 2500, 2500]);
    expect([0, 1, 2, 3, 9].map((f) => reconnectDelayMs(f, 0.5))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});

describe('--sched least-conn and ip-hash', () => {
  const probe = (over: Partial<LongLivedProbeOptions>) =>
    runLongLivedProbe({ kind: 'ws', workers: 2, sched: 'rr', connections: 200, concurrency: 50, messages: 1, holdMs: 1_000, timeoutMs: 10_000, reload: false, ...over });

  it('a worker killed under 200 open sockets: least-conn gives its replacement the reconnects, open counts even again', async () => {
    const result = await probe({ sched: 'least-conn', chaosMs: 600 });
    expect(longLivedExitCode(result)).toBe(0);
    expect(result.disruption!.killed).toHaveLength(1);
    // Bar held: within ±10% of the mean (busiest ÷ least busy ≤ 1.1 / 0.9). The clients reconnect after 0.5–1.5 s
    // (Socket.IO's backoff), once the replacement listens; rr's figure in the same situation is 3× (docs/long-lived.md).
    expect(result.balance.atEnd, 'busiest ÷ least busy after the reconnects').not.toBeNull();
    expect(result.balance.atEnd!).toBeLessThanOrEqual(1.1 / 0.9);
    const replacement = result.workers.find((w) => w.openAtStart === 0 && !w.gone)!;
    expect(replacement.server!.accepted).toBe(replacement.openAtEnd);
  });

  it('ip-hash: every client on one address lands on one worker (the proxy trap); 8 source addresses meet every worker', async () => {
    const one = await probe({ sched: 'ip-hash', connections: 60, holdMs: 200 });
    expect(one.workers.filter((w) => w.openAtStart > 0)).toHaveLength(1);
    expect(longLivedExitCode(one)).toBe(1);
    const text = renderLongLivedReport(one, makeChalk(false));
    expect(text).toContain('✗ only 1 of 2 workers accepted connections — ip-hash sends a client where its address hashes to, and all 60 came from one address: the proxy trap');
    const eight = await probe({ sched: 'ip-hash', connections: 64, holdMs: 200, sourceAddresses: 8 });
    expect(longLivedExitCode(eight)).toBe(0);
    expect(eight.workers.every((w) => w.openAtStart > 0)).toBe(true);
    // Sticky: each address's 8 clients all met the worker its hash names.
    const perWorker = eight.workers.map((w) => w.openAtStart).sort();
    const expected = [0, 1].map((slot) => Array.from({ length: 8 }, (_, i) => sourceAddress(i, 8)).filter((a) => addressHash(a) % 2 === slot).length * 8).sort();
    expect(perWorker).toEqual(expected);
  });

  it('the choices, with literal numbers', () => {
    const c = (slot: number, open: number, lastPicked: number) => ({ slot, open, lastPicked });
    expect(pickLeastConnections([c(0, 5, 1), c(1, 3, 0), c(2, 3, 2)])?.slot).toBe(1);
    expect(pickLeastConnections([c(0, 2, 7), c(1, 2, 4)])?.slot).toBe(1);
    expect(pickLeastConnections([])).toBeUndefined();
    expect(addressHash('127.0.0.1')).toBe(addressHash('127.0.0.1'));
    expect(addressHash('')).toBe(0x811c9dc5);
    const home = addressHash('127.0.0.2') % 3;
    expect(pickByAddress([c(0, 0, 0), c(1, 0, 0), c(2, 0, 0)], '127.0.0.2', 3)?.slot).toBe(home);
    // Its slot's worker is gone: the next slot up.
    expect(pickByAddress([c(0, 0, 0), c(1, 0, 0), c(2, 0, 0)].filter((x) => x.slot !== home), '127.0.0.2', 3)?.slot).toBe((home + 1) % 3);
  });
});

interface Stream {
  headers: http.IncomingHttpHeaders;
  text: string;
  ended: boolean;
  error?: string;
}

function openStream(url: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/sse`, { agent: false }, (res) => {
      const stream: Stream = { headers: res.headers, text: '', ended: false };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (stream.text += chunk));
      res.on('end', () => (stream.ended = true));
      res.on('error', (err) => (stream.error = err.message));
      resolve(stream);
    });
    req.on('error', reject);
  });
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const upgrade = (key: string, extra = '') => `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
/** A client frame: FIN + opcode, then the length (masked unless told otherwise). */
function frame(opcode: number, payload: Buffer, masked = true, declaredLength?: number): Buffer {
  const length = declaredLength ?? payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | length]) : Buffer.concat([Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
  if (!masked) return Buffer.concat([header, payload]);
  const mask = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([header, mask, Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!))]);
}

/** What each hostile client sends: a bad handshake alone, or a good handshake and then bad frames. */
const HOSTILE: Record<string, Buffer[]> = {
  'bad key': [Buffer.from(upgrade('not-a-key'))],
  'no version': [Buffer.from(upgrade(KEY).replace('Sec-WebSocket-Version: 13\r\n', ''))],
  'wrong path': [Buffer.from(upgrade(KEY).replace('/ws', '/nope'))],
  'unmasked frame': [Buffer.from(upgrade(KEY)), frame(0x1, Buffer.from('hello'), false)],
  'oversized frame': [Buffer.from(upgrade(KEY)), frame(0x2, Buffer.alloc(16), true, 1 << 30)],
  'reserved opcode': [Buffer.from(upgrade(KEY)), frame(0x3, Buffer.from('x'))],
  'invalid UTF-8': [Buffer.from(upgrade(KEY)), frame(0x1, Buffer.from([0xff, 0xfe, 0xfd]))],
  'junk after handshake': [Buffer.from(upgrade(KEY)), Buffer.from('GET / HTTP/1.1\r\n\r\n\x00\x01garbage garbage')],
};

/** Sends `parts` on a new connection; how the server ended it ("closed", or "hung" if it kept it 5 s). */
function hostile(port: number, parts: Buffer[]): Promise<'closed' | 'hung'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    raw.push(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('hung');
    }, 5_000);
    socket.on('connect', () => {
      socket.write(parts[0]!);
      // Frames once the handshake's answer is in.
      if (parts.length > 1) socket.once('data', () => { for (const part of parts.slice(1)) socket.write(part); });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    socket.resume();
  });
}

describe('compare --policies --ws: the pure parts', () => {
  it('the median counts a run where a live worker held none (null) as the largest', () => {
    expect(medianOrNull([3.1, 1.2, 2])).toBe(2);
    expect(medianOrNull([1, null, null])).toBeNull();
    expect(medianOrNull([1, 1.5, null, 2])).toBe(1.75);
    expect(medianOrNull([])).toBeNull();
  });

  it('the verdict names which policies held the workers within ±10%, from the medians', () => {
    expect(wsPoliciesVerdict([{ label: 'rr', medianAtEnd: 3.17 }, { label: 'least-conn', medianAtEnd: 1 }, { label: 'ip-hash (1 address)', medianAtEnd: null }])).toBe(
      'after a worker was killed and its clients reconnected, least-conn 1.00× held the live workers within ±10% of each other; rr 3.17×, ip-hash (1 address) ∞ did not (busiest ÷ least busy, median of the runs; ∞: a live worker held none)',
    );
    expect(wsPoliciesVerdict([{ label: 'rr', medianAtEnd: 1.2 }])).toBe('after a worker was killed and its clients reconnected, every policy held the live workers within ±10% of each other (rr 1.20×)');
  });

  it('--ws without --policies is one line, exit 2', async () => {
    const run = await runCli(['compare', '--ws']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--ws compares the policies on WebSockets: add --policies/);
  });
});
