/**
 * serve --max-connection-age: a kept connection ends gracefully once it is older than the age (connection: close on
 * its next response; a GOAWAY under HTTP/2), so one long-lived client reconnects and meets every worker, with
 * nothing failed. Without it, the same client stays on one worker for good (the control).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnServe, type SpawnedServer } from '../src/cluster/spawn.js';
import type { ProbeResult } from '../src/probe/run.js';
import { runCli } from './helpers.js';

const servers: SpawnedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop('SIGTERM')));
});

async function serve(args: string[]): Promise<SpawnedServer> {
  const server = await spawnServe(['--port', '0', '--workers', '2', ...args]);
  servers.push(server);
  return server;
}

/** `probe --url … --connections 1 --duration 2s --route pid --json` with `flags`; its one route. */
async function probeOneConnection(url: string, flags: string[]): Promise<ProbeResult['routes'][number]> {
  const cli = await runCli(['probe', '--url', url, '--connections', '1', '--duration', '2s', '--route', 'pid', '--concurrency', '8', '--json', ...flags], { timeoutMs: 30_000 });
  expect(cli.stderr).toBe('');
  const doc = JSON.parse(cli.stdout) as ProbeResult;
  expect(doc.routes).toHaveLength(1);
  return doc.routes[0]!;
}

describe('serve --max-connection-age', () => {
  it('keep-alive over one connection: 1 worker without it; every worker with 300ms, 0 failed', async () => {
    const plain = await serve([]);
    const pinned = await probeOneConnection(plain.url, ['--keep-alive']);
    expect(pinned).toMatchObject({ failed: 0, workersSeen: 1 });

    const aged = await serve(['--max-connection-age', '300ms']);
    const spread = await probeOneConnection(aged.url, ['--keep-alive']);
    expect(spread.failed).toBe(0);
    expect(spread.workersSeen).toBe(2);
    expect(spread.ok).toBeGreaterThan(100);
  });

  it('HTTP/2 over one connection: a GOAWAY at 300ms, every worker, 0 failed', async () => {
    const aged = await serve(['--h2', '--max-connection-age', '300ms']);
    const spread = await probeOneConnection(aged.url, ['--h2', '--insecure']);
    expect(spread.failed).toBe(0);
    expect(spread.workersSeen).toBe(2);
    expect(spread.ok).toBeGreaterThan(100);
  });
});
