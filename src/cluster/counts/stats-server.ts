/**
 * The cluster's view on a port of its own, answered by the primary (`serve --stats-port`): the same routes and
 * documents as the workers' (/_cluster/stats, /_cluster/events, /metrics, /dashboard), for a user's app that owns
 * every path of its own port. Loopback unless the stats are asked for on every interface (`--stats`).
 */
import http from 'node:http';
import os from 'node:os';
import { ClusterStartError } from '../cluster-api.js';
import { describeListenError } from '../listen-errors.js';
import { formatHostForUrl } from '../ports.js';
import { createPrimaryStatsRoutes, type StatsSource } from './endpoints.js';
import type { PrimaryStats } from './primary-stats.js';

export interface StatsServer {
  url: string;
  close(): Promise<void>;
}

/** `appUrl`: a user's app, once it listens (the dashboard's experiments go there); null before or without one. */
export async function startStatsServer(stats: PrimaryStats, host: string, port: number, name?: string, appUrl?: () => string | null): Promise<StatsServer> {
  const source: StatsSource = {
    request: (exact) => stats.fresh(exact ? 12_000 : undefined),
    watch: (on) => stats.watchLocal(push, on),
    app: () => {
      const url = appUrl?.();
      return url ? { origin: new URL(url).origin } : null;
    },
  };
  const push = (message: Parameters<NonNullable<StatsSource['onPush']>>[0]) => source.onPush?.(message);
  const routes = createPrimaryStatsRoutes(source);
  // Who answered: the primary (worker id 0), so the dashboard says so.
  const identity = { 'x-worker-pid': String(process.pid), 'x-worker-id': '0', 'x-primary-pid': String(process.pid), 'x-hostname': name ?? os.hostname() };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/') {
      res.writeHead(302, { location: '/dashboard', ...identity }).end();
      return;
    }
    routes.serve(req, res, path, identity);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ClusterStartError(`--stats-port: ${describeListenError(err.code ?? 'UNKNOWN', host, port, err.message).replace('--port', '--stats-port')}`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as { port: number };
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return {
    url: `http://${formatHostForUrl(reachable)}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        routes.closeStreams();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
