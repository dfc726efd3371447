/**
 * A graceful stop answers every request already sent (issue: "SIGTERM drops sent requests"). Real `cluster-demo
 * serve` processes get a real SIGTERM while CPU-heavy requests queue behind their busy workers: under rr in the
 * primary's hand-off queue, under none in the shared socket's accept queue, under HTTP/2 as streams unread on a
 * session. Before the fix about half of them got no response at all.
 */
import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import { request, waitFor, type HttpReply } from './helpers.js';

const servers: SpawnedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL', 5_000)));
});

async function serve(args: string[]): Promise<SpawnedServer> {
  const server = await spawnServe(['--port', '0', '--workers', '2', '--no-live', ...args]);
  servers.push(server);
  return server;
}

/** About 100 ms of CPU per request here: 20 of them keep 2 workers busy for about a second. */
const HEAVY = '/api/120000000';
const REQUESTS = 20;

function settled<T>(promises: Promise<T>[]): Promise<{ ok: T[]; failed: string[] }> {
  return Promise.allSettled(promises).then((results) => ({
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    failed: results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : [])),
  }));
}

describe('SIGTERM with heavy requests queued behind busy workers', () => {
  for (const sched of ['rr', 'none'] as const) {
    it(`--sched ${sched}: every request sent before the signal is answered, then the server exits 0`, async () => {
      const server = await serve(['--sched', sched]);
      let answered = 0;
      const replies = Array.from({ length: REQUESTS }, () =>
        request(server.url, HEAVY, { timeoutMs: 30_000 }).then((reply: HttpReply) => {
          answered++;
          return reply;
        }),
      );
      // Two answered: both workers are busy and the other requests wait (in the primary's queue under rr, in the
      // socket's accept queue under none).
      await waitFor('the first responses', () => (answered >= 2 ? true : undefined), 20_000, 5);
      const exit = server.stop('SIGTERM', 30_000);
      const { ok, failed } = await settled(replies);
      expect(failed, `no response for ${failed.length} of ${REQUESTS}`).toEqual([]);
      expect(ok.map((r) => r.status)).toEqual(Array(REQUESTS).fill(200));
      expect(answered).toBe(REQUESTS);
      expect(await exit).toEqual({ code: 0, signal: null });
    });
  }

  it('--h2: sessions queued behind a busy worker get every stream answered before their GOAWAY', async () => {
    const server = await serve(['--h2', '--workers', '1']);
    const sessions: http2.ClientHttp2Session[] = [];
    const connect = () => {
      const session = http2.connect(server.url, { rejectUnauthorized: false });
      session.on('error', () => {});
      sessions.push(session);
      return session;
    };
    const open = (session: http2.ClientHttp2Session, path: string) =>
      new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': path });
        let status = 0;
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('error', reject);
        stream.on('close', () => (status ? resolve(status) : reject(new Error(`stream closed without a response (code ${stream.rstCode})`))));
        stream.resume();
        stream.end();
      });
    try {
      const first = connect();
      await new Promise<void>((resolve) => first.once('connect', () => resolve()));
      // One stream keeps the only worker busy; three more sessions, three streams each, queue behind it (their
      // TLS handshakes wait for the worker, so their streams are sent once it takes them: while it drains).
      const busy = open(first, '/api/400000000');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const queued = Array.from({ length: 3 }, () => connect()).flatMap((session) => Array.from({ length: 3 }, () => open(session, HEAVY)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const exit = server.stop('SIGTERM', 30_000);
      const { ok, failed } = await settled([busy, ...queued]);
      expect(failed).toEqual([]);
      expect(ok).toEqual(Array(10).fill(200));
      expect(await exit).toEqual({ code: 0, signal: null });
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});
