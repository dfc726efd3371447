/**
 * Entry point of a cluster worker (the primary forks this file). It serves the demo routes on the address the
 * primary passed in its environment and reports to the primary through the typed messages in messages.ts:
 * its lifecycle, and (stats on) its counters, batched per tick.
 */
import cluster from 'node:cluster';
import { acceptedConnections, drainServer, unfinishedResponses } from './drain.js';
import { createDemoServer, type DemoServer } from './demo-server.js';
import { currentIdentity } from './handler.js';
import { WORKER_CONFIG_ENV, type WorkerConfig } from './messages.js';
import { runWorkerLifecycle, sendToPrimary } from './worker-lifecycle.js';
import { serveHandedConnections } from './handed-connections.js';
import { createStatsRoutes, type StatsRoutes } from './counts/endpoints.js';
import { WorkerStats } from './counts/worker-stats.js';
import { LongLived } from './long-lived.js';

const send = sendToPrimary;

const rawConfig = process.env[WORKER_CONFIG_ENV];
if (!cluster.isWorker || !cluster.worker || rawConfig === undefined) {
  console.error('cluster-demo: worker.js is started by the cluster primary (use `cluster-demo serve`)');
  process.exit(2);
}

const config = JSON.parse(rawConfig) as WorkerConfig;
// The workers share the primary's output. Once its reader is gone (`serve | head`), a write fails with EPIPE:
// that is no reason to stop serving.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
let shuttingDown = false;
let server: DemoServer | undefined;
let routes: StatsRoutes | undefined;
const identity = currentIdentity(cluster.worker.id, config.primaryPid, config.name);
let longLived: LongLived | undefined;
const stats = config.stats.count
  ? new WorkerStats(send, {
      connections: () => (server ? acceptedConnections(server) : 0),
      // The event streams (ours and the dashboard's) never finish by themselves: not in flight.
      inFlight: () => (server ? unfinishedResponses(server, (res) => (routes?.isStatsResponse(res) ?? false) || (longLived?.isStream(res) ?? false)) : 0),
      longLived: () => longLived!.counts,
    })
  : undefined;
longLived = new LongLived(identity, () => stats?.touch());
routes = stats && config.stats.endpoints ? createStatsRoutes(stats, send) : undefined;

server = createDemoServer({
  protocol: config.protocol,
  tls: config.tls,
  identity,
  longLived,
  maxN: config.maxN,
  isShuttingDown: () => shuttingDown,
  headersTimeoutMs: config.headersTimeoutMs,
  requestTimeoutMs: config.requestTimeoutMs,
  keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  maxConnectionAgeMs: config.maxConnectionAgeMs,
  counter: stats,
  statsRoutes: routes,
});
const demo: DemoServer = server;
// A connection that sends nothing yet still changes the connection count: the next report says so.
if (stats) demo.on('connection', () => stats.touch());

let listening = false;
demo.on('error', (err: NodeJS.ErrnoException) => {
  if (!listening) {
    // The primary turns this into one clear line; exiting after the message is delivered avoids a race.
    send({ type: 'listen-failed', pid: process.pid, code: err.code ?? 'UNKNOWN', message: err.message }, () => process.exit(1));
    return;
  }
  console.error(`worker ${process.pid}: server error: ${err.message}`);
});

if (config.handoff) {
  // --sched least-conn / ip-hash: the primary listens and hands each connection over (balancer.ts).
  serveHandedConnections(demo);
  listening = true;
  stats?.start();
  send({ type: 'listening', pid: process.pid, host: config.host, port: config.port });
} else {
  // reusePort (Node ≥ 22.12): a cluster worker binds this socket itself, with SO_REUSEPORT, instead of asking
  // the primary; @types/node 20 does not know the option yet.
  demo.listen({ port: config.port, host: config.host, reusePort: config.reusePort === true } as Parameters<typeof demo.listen>[0], () => {
    listening = true;
    const address = demo.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    stats?.start();
    send({ type: 'listening', pid: process.pid, host: config.host, port });
  });
}

runWorkerLifecycle({
  stats,
  drain(closed) {
    shuttingDown = true;
    // Event streams never end by themselves: end them, and the browsers reconnect to a worker that stays.
    routes?.closeStreams();
    // WebSockets get a close frame (1001), /sse streams their end: their clients reconnect elsewhere.
    longLived?.closeAll();
    // Stop accepting; `closed` runs once every connection has ended, i.e. in-flight requests finished.
    drainServer(demo, closed);
  },
});
