/**
 * HTTP/1.1 keep-alive: an undici Pool with at most `connections` sockets, reused request after request, which
 * pins each request to the worker that accepted its connection (`--connections 1`: one worker).
 */
import type { Pool as UndiciPool } from 'undici';
import { failure } from './collector.js';
import type { LoadOptions } from './engine.js';
import { pidFromBody } from './response-parser.js';
import { errorCode, type Sender } from './sender.js';
import { performance } from 'node:perf_hooks';
import { IDENTITY_REQUEST_HEADER, IDENTITY_REQUEST_VALUE } from '../core/identity.js';

export async function openKeepAliveSender(options: LoadOptions): Promise<Sender> {
  // Loaded only for keep-alive runs: the close-mode engine does not need undici's weight in memory.
  const { Pool } = await import('undici');
  const pool: UndiciPool = new Pool(options.target.origin, {
    connections: options.connections ?? options.concurrency,
    pipelining: 1,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
    connect: { rejectUnauthorized: !options.insecure, ca: options.ca },
  });
  return {
    transport: 'undici',
    protocol: 'http/1.1',
    send(done) {
      pool
        .request({ path: options.path, method: 'GET', headers: { 'user-agent': 'cluster-demo', [IDENTITY_REQUEST_HEADER]: IDENTITY_REQUEST_VALUE } })
        .then(async (response) => {
          const header = (name: string) => {
            const value = response.headers[name];
            return Array.isArray(value) ? value[0] : value;
          };
          const pidHeader = header('x-worker-pid');
          let pid = pidHeader !== undefined ? Number(pidHeader) || undefined : undefined;
          if (pid === undefined) pid = pidFromBody(await response.body.text());
          else await response.body.dump();
          const primary = header('x-primary-pid');
          done({ status: response.statusCode, pid, host: header('x-hostname'), primaryPid: primary !== undefined ? Number(primary) : undefined, error: undefined }, performance.now());
        })
        .catch((err: unknown) => done(failure(errorCode(err)), undefined));
    },
    close: () => pool.close(),
  };
}
