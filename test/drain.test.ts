/**
 * drainServer (src/cluster/drain.ts): a draining server must still answer a connection it accepted before the
 * drain whose request arrives after it began (under the cluster: a connection just handed to a worker in a
 * rolling restart). Node 26's closeIdleConnections() destroys such a connection; on that line these tests
 * fail without drain.ts's own handling.
 */
import net from 'node:net';
import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { drainServer, noteRequest, settleResponses, SILENT_CONNECTION_GRACE_MS, trackConnections } from '../src/cluster/drain.js';
import { createDemoServer } from '../src/cluster/demo-server.js';
import { currentIdentity } from '../src/cluster/handler.js';
import { waitFor } from './helpers.js';

let shuttingDown = false;
const servers: http.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
  shuttingDown = false;
});

async function listen(): Promise<{ server: http.Server; port: number }> {
  const server = createDemoServer({ identity: currentIdentity(0, process.pid), maxN: 1_000, isShuttingDown: () => shuttingDown }) as http.Server;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** A raw client connection, connected and seen by the server, that has not sent anything yet. */
async function connectSilently(server: http.Server, port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void> }> {
  const accepted = new Promise<void>((resolve) => server.once('connection', () => resolve()));
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await Promise.all([new Promise((resolve) => socket.once('connect', resolve)), accepted]);
  return { socket, received: () => data, closed };
}

describe('drainServer', () => {
  it('answers a connection accepted before the drain whose request arrives after it began', async () => {
    const { server, port } = await listen();
    const client = await connectSilently(server, port);
    let drained = false;
    shuttingDown = true;
    drainServer(server, () => (drained = true));
    client.socket.write('GET /pid HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(client.received().toLowerCase()).toContain('connection: close');
    expect(client.received()).toContain(`Which PID handled this process: ${process.pid}`);
    await waitFor('the drain to finish', () => (drained ? true : undefined), 2_000);
  });

  it('closes an idle keep-alive connection at once, and a silent one after the grace period', async () => {
    const { server, port } = await listen();
    const idle = await connectSilently(server, port);
    idle.socket.write('GET /pid HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    await waitFor('the keep-alive response', () => (idle.received().includes('Which PID') ? true : undefined), 2_000);
    const silent = await connectSilently(server, port);
    const started = Date.now();
    let drainedAt = 0;
    shuttingDown = true;
    drainServer(server, () => (drainedAt = Date.now()));
    await idle.closed;
    expect(Date.now() - started).toBeLessThan(SILENT_CONNECTION_GRACE_MS);
    await silent.closed;
    expect(silent.received()).toBe('');
    await waitFor('the drain to finish', () => (drainedAt ? true : undefined), 2_000);
    expect(drainedAt - started).toBeGreaterThanOrEqual(SILENT_CONNECTION_GRACE_MS - 50);
  });
});

describe('finished responses told late (trackConnections with requests: "noted", as the app agent counts)', () => {
  /** A plain node:http server whose requests are noted as the agent notes them; each told response's URL and status. */
  async function noted(handler: http.RequestListener): Promise<{ server: http.Server; port: number; told: string[]; accepted: () => number }> {
    const { createServer } = await import('node:http');
    const told: string[] = [];
    let accepted = 0;
    const server = createServer((req, res) => {
      expect(noteRequest(req, res)).toBe(true);
      handler(req, res);
    });
    trackConnections(server, false, { requests: 'noted', finished: (res) => told.push(`${res.req.url} ${res.statusCode}`), accepted: () => accepted++ });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as net.AddressInfo).port, told, accepted: () => accepted };
  }

  /** Writes `raw` on a new connection and resolves with everything read once `responses` status lines arrived. */
  function exchange(port: number, raw: string, responses: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(raw));
      sockets.push(socket);
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
        if (text.split('HTTP/1.1 ').length - 1 === responses) resolve(socket);
      });
      socket.on('error', reject);
    });
  }

  const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;

  it('on a keep-alive connection: each when the next request comes, the last one when a report settles', async () => {
    const { server, port, told, accepted } = await noted((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('ok');
    });
    const socket = await exchange(port, get('/a'), 1);
    expect(told).toEqual([]);
    expect(accepted()).toBe(1);
    socket.write(get('/missing'));
    await waitFor('the first response told', () => (told.length === 1 ? true : undefined), 2_000);
    expect(told).toEqual(['/a 200']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    settleResponses(server);
    expect(told).toEqual(['/a 200', '/missing 404']);
    settleResponses(server);
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(told).toEqual(['/a 200', '/missing 404']);
  });

  it('pipelined requests: a response still being written is told once it finishes; a connection closed tells its last', async () => {
    const { port, told, accepted: acceptedCount } = await noted((req, res) => {
      // The first answers late: the second and third are parsed (and their responses created) before it ends.
      if (req.url === '/slow') setTimeout(() => res.end('slow'), 100);
      else res.end(req.url);
    });
    await exchange(port, get('/slow') + get('/b') + `GET /c HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`, 3);
    await waitFor('three responses told', () => (told.length === 3 ? true : undefined), 2_000);
    expect(told.sort()).toEqual(['/b 200', '/c 200', '/slow 200']);
    expect(acceptedCount()).toBe(1);
  });

  it('a response cut off with its connection is never told', async () => {
    const { port, told } = await noted(() => undefined);
    const socket = await new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      sockets.push(s);
    });
    socket.write(get('/never'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(told).toEqual([]);
  });
});
