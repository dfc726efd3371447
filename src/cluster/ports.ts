import net from 'node:net';

/** Asks the OS for a free port on host. Used for port 0, because cluster workers that all listen on port 0
 * share one handle keyed by address and port: two clusters in one process would otherwise share a port. */
export function findFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function formatHostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function connectableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** Rejects with the bind error (EADDRINUSE, EACCES, …) when `port` cannot be bound plainly on host right now. */
export function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
