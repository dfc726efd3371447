/**
 * `serve --max-connection-age`: a connection older than this is ended gracefully, so a long-lived client opens a
 * new one and the cluster places it again (gRPC's MAX_CONNECTION_AGE, for the same reason: a balancer of
 * connections only balances at connect time).
 * - HTTP/1.1 (plain, or over TLS): the first response after the age carries `connection: close`; Node closes the
 *   connection once that response is sent, and the client sends its next request on a new one. Nothing is cut
 *   mid-request, and an idle connection is left to the keep-alive timeout as before.
 * - HTTP/2: at its age the session gets a GOAWAY (session.close()): streams already open finish, the client opens
 *   new ones on a new connection.
 */
import type http from 'node:http';
import type http2 from 'node:http2';
import type net from 'node:net';
import type { DemoServer, ServeProtocol } from './demo-server.js';

export function limitConnectionAge(server: DemoServer, protocol: ServeProtocol, maxAgeMs: number): void {
  const born = new WeakMap<net.Socket, number>();
  // The socket a request sees: the TCP one for plain HTTP, the TLS one (after its handshake) otherwise.
  server.on(protocol === 'http' ? 'connection' : 'secureConnection', (socket: net.Socket) => born.set(socket, performance.now()));
  // Before the handler, so that its writeHead keeps the header.
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.httpVersionMajor !== 1) return; // HTTP/2 streams: the session's GOAWAY below
    const at = born.get(req.socket);
    if (at !== undefined && performance.now() - at >= maxAgeMs) res.setHeader('connection', 'close');
  });
  if (protocol === 'h2') {
    server.on('session', (session: http2.ServerHttp2Session) => {
      const timer = setTimeout(() => {
        if (!session.closed && !session.destroyed) session.close();
      }, maxAgeMs);
      timer.unref();
      session.once('close', () => clearTimeout(timer));
    });
  }
}
