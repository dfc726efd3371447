/**
 * A worker's side of `--sched least-conn` and `--sched ip-hash` (the primary's side: balancer.ts): each socket the
 * primary hands over arrives with a `connection` message and becomes a connection of the worker's server, exactly
 * as if it had accepted it; when such a connection closes the primary is told, batched per turn of the event
 * loop (one message for all the closes a loop turn saw), so it knows how many this worker holds open.
 */
import type net from 'node:net';
import { HANDOFF_MESSAGE } from './balancer.js';
import { sendToPrimary } from './worker-lifecycle.js';

export function serveHandedConnections(server: net.Server): void {
  let closed = 0;
  const report = () => {
    const count = closed;
    closed = 0;
    sendToPrimary({ type: 'connections-closed', count });
  };
  const onClose = () => {
    if (closed++ === 0) setImmediate(report);
  };
  process.on('message', (message: unknown, socket?: net.Socket) => {
    if ((message as { type?: string } | null)?.type !== HANDOFF_MESSAGE.type || socket === undefined) return;
    socket.once('close', onClose);
    server.emit('connection', socket);
    // The primary accepted it paused (no byte read there): this worker reads it from here.
    socket.resume();
  });
}
