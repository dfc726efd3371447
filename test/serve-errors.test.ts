import { describe, expect, it } from 'vitest';
import { parseServeLogLine } from '../src/cluster/serve-log.js';
import { lines, runCli } from './helpers.js';

describe('serve: addresses it cannot listen on', () => {
  for (const port of ['0', '3457']) {
    it(`a host that does not resolve (--port ${port}): one line, exit 1, no stack`, async () => {
      const result = await runCli(['serve', '--host', '999.1.1.1', '--port', port]);
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toEqual(['error: host 999.1.1.1 could not be resolved — check --host']);
    });
  }

  it('an address this machine does not have: one line, exit 1, no fork loop', async () => {
    const result = await runCli(['serve', '--host', '192.0.2.1', '--port', '0', '--workers', '2', '--log', 'json']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual(['error: address 192.0.2.1 is not available on this machine — check --host (127.0.0.1 or 0.0.0.0)']);
    const forks = lines(result.stdout).filter((line) => parseServeLogLine(line)?.type === 'worker-started');
    expect(forks.length).toBeLessThanOrEqual(2);
  });
});

describe('serve: a worker still busy after --grace', () => {
  it('is killed, and the exit code says so (1)', async () => {
    const { spawnServe } = await import('../src/cluster/spawn.js');
    const { request, waitForBusyWorker } = await import('./helpers.js');
    const server = await spawnServe(['--port', '0', '--workers', '1', '--grace', '0.5']);
    try {
      // About 4 s of CPU: still running when the grace period ends.
      const inFlight = request(server.url, '/api/5000000000', { timeoutMs: 20_000 }).catch((err: Error) => err);
      await waitForBusyWorker(server.readyPids);
      const started = Date.now();
      const exit = await server.stop('SIGTERM');
      expect(exit.code).toBe(1);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(server.events()).toContainEqual(expect.objectContaining({ type: 'worker-killed', pid: server.readyPids[0], reason: 'grace' }));
      expect(await inFlight).toBeInstanceOf(Error);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});
