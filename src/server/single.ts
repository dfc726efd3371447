/**
 * The single-process contender of `compare`: the same request handler as the cluster workers, in one process,
 * without the cluster module. Prints the same `listening on http://…` readiness line as `serve`.
 *
 *   node dist/server/single.js [port] [host] [maxN]
 */
import { drainServer } from './drain.js';
import { createDemoServer, currentIdentity, DEFAULT_MAX_N } from './handler.js';
import { formatHostForUrl } from './ports.js';

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';
const maxN = Number(process.argv[4] ?? DEFAULT_MAX_N);
let shuttingDown = false;

const server = createDemoServer({ identity: currentIdentity(0, process.pid), maxN, isShuttingDown: () => shuttingDown });
server.on('error', (err) => {
  console.error(`error: ${err.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(`Single process ${process.pid} (no cluster)`);
  console.log(`listening on http://${formatHostForUrl(host)}:${actual}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    shuttingDown = true;
    drainServer(server, () => process.exit(0));
  });
}
