/**
 * The servers of a pair: shared by every pair (keep-alive rows 2a, 2c), or two fresh ones per pair (a connection
 * per request: the server closes first and keeps TIME_WAIT, and a later run against the same port whose client
 * ports come round again meets those entries, which moves two identical servers apart by a few percent to 25%
 * depending on their port and the order of their runs; NOTES.md, rows 7 and 9), or where one server process's own
 * speed is as large as the effect sought (keep-alive, row 9a). Rows 2, 7, 9 and 10.
 */
import type { SpawnedServer } from '../../src/cluster/spawn.js';
import type { BenchContext } from './bench.js';

/** A server shared by every pair, or how to start a fresh one for each pair. */
export type Contender = SpawnedServer | { fresh: () => Promise<SpawnedServer> };

/**
 * Runs `fn` on the pair's servers: the shared ones, or fresh ones started for it (together), each warmed up in
 * turn with `warm(server)`, and stopped `later`: once the pair's share of other processes is read (bench.ts's
 * alternate), on failure too.
 */
export async function withServers<S extends string, T>(
  ctx: BenchContext,
  contenders: Record<S, Contender>,
  warm: (server: SpawnedServer) => Promise<unknown>,
  later: (cleanup: () => Promise<unknown>) => void,
  fn: (servers: Record<S, SpawnedServer>) => Promise<T>,
): Promise<T> {
  const sides = Object.keys(contenders) as S[];
  const started = await Promise.allSettled(sides.map((side): Promise<SpawnedServer> => {
    const c: Contender = contenders[side];
    return 'fresh' in c ? ctx.transientServer(c.fresh) : Promise.resolve(c);
  }));
  const own = sides.flatMap((side, i) => {
    const s = started[i]!;
    return 'fresh' in contenders[side] && s.status === 'fulfilled' ? [s.value] : [];
  });
  later(() => Promise.all(own.map((s) => s.stop('SIGTERM', 10_000))));
  const servers = {} as Record<S, SpawnedServer>;
  sides.forEach((side, i) => {
    const s = started[i]!;
    if (s.status === 'rejected') throw s.reason;
    servers[side] = s.value;
  });
  for (const s of own) await warm(s);
  return fn(servers);
}
