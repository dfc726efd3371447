/**
 * The single-process contender of `compare`: the same request handler as the cluster workers, in one process,
 * without the cluster module. It logs as `serve --log json` does (a `ready` event with its URL), for spawn.ts.
 *
 *   node dist/cluster/single.js [port] [host] [maxN]
 */
import { serveLogLine } from './serve-log.js';
import { drainServer } from './drain.js';
import { createDemoServer } from './demo-server.js';
import { currentIdentity, DEFAULT_MAX_N } from './handler.js';
import { connectableHost, formatHostForUrl } from './ports.js';

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';
const maxN = Number(process.argv[4] ?? DEFAULT_MAX_N);
let shuttingDown = false;

const server = createDemoServer({ identity: currentIdentity(0, process.pid), maxN, isShuttingDown: () => shuttingDown });
server.on('error', (err) => {
  console.log(serveLogLine({ at: Date.now(), type: 'start-failed', message: err.message }));
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const url = `http://${formatHostForUrl(connectableHost(host))}:${actual}`;
  console.log(serveLogLine({ at: Date.now(), type: 'ready', url, listenUrl: `http://${formatHostForUrl(host)}:${actual}`, pids: [process.pid] }));
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    shuttingDown = true;
    drainServer(server, () => process.exit(0));
  });
}
