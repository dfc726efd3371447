import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/engine.js';

let server: net.Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A raw server that answers and then keeps the connection open, ignoring `connection: close`. */
function listenStubborn(): Promise<URL> {
  const sockets = new Set<net.Socket>();
  server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-worker-pid: 4242\r\n\r\nok'));
  });
  const s = server;
  s.on('close', () => sockets.forEach((x) => x.destroy()));
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(new URL(`http://127.0.0.1:${(s.address() as net.AddressInfo).port}`))));
}

describe('load engine, connection per request', () => {
  for (const transport of ['raw', 'net'] as const) {
    it(`${transport}: a server that never closes still counts as answered, with the latency of its response`, async () => {
      const target = await listenStubborn();
      const started = performance.now();
      const recording = await runLoad({ target, path: '/pid', concurrency: 4, requests: 8, keepAlive: false, timeoutMs: 10_000, retries: 0, transport });
      const c = recording.collector;
      expect(c.ok).toBe(8);
      expect(c.failed).toBe(0);
      expect([...c.workers.values()].map((w) => [w.pid, w.requests])).toEqual([[4242, 8]]);
      // The latency ends at the complete response, not at the client's close after the grace period.
      expect(c.latency.max / 1000).toBeLessThan(500);
      // Two rounds of 4, each waiting ~1 s for a close that never comes, then closing from our side.
      expect(performance.now() - started).toBeGreaterThan(1500);
    });
  }
});
