/**
 * Cores of their own for a row that measures a server's cost per request (row 9a): the server (its primary and
 * workers, every thread) on one core, the load tool on the other. Unpinned, two workers, their primary and wrk
 * share two cores as the scheduler places them, and two identical fresh servers then differ by up to ±30% in req/s
 * and 35–68 µs of CPU per request (NOTES.md, row 9), while the tool's share dilutes the server's own cost. Pinned,
 * the server is CPU-bound as it is in production, where the load comes from elsewhere. taskset (util-linux):
 * Node has no call for a process's CPU affinity.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import type { SpawnedServer } from '../../src/cluster/spawn.js';
import { descendantPids } from '../../src/external/process-tree.js';
import { haveTool } from './tools.js';

export const SERVER_CPU = 0;
export const TOOL_CPU = 1;

/** Why the server and the tool cannot have a core each here, or null. */
export function cannotPin(): string | null {
  if (os.availableParallelism() < 2) return 'needs 2 cores (the server on one, the load tool on the other)';
  if (!haveTool('taskset')) return 'taskset not installed (Debian package util-linux)';
  return null;
}

/** Pins every thread of the server's processes (primary and workers) to `cpu`; a worker forked later inherits it. */
export function pinServer(server: SpawnedServer, cpu = SERVER_CPU): void {
  for (const pid of [server.pid, ...descendantPids(server.pid)]) {
    const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to CPU ${cpu}`);
  }
}

/** A starter of fresh servers whose servers are pinned to `cpu` once ready (stopped if that fails). */
export function pinned(start: () => Promise<SpawnedServer>, cpu = SERVER_CPU): () => Promise<SpawnedServer> {
  return async () => {
    const server = await start();
    try {
      pinServer(server, cpu);
    } catch (error) {
      await server.stop('SIGTERM', 10_000);
      throw error;
    }
    return server;
  };
}
