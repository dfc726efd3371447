/**
 * What `compare` measures and how: the contenders' servers (each a child process), the warm-up, and the
 * workloads (light, heavy, mixed) run through the probe's engine. Shared by both comparisons (runner.ts and
 * policies.ts).
 */
import { performance } from 'node:perf_hooks';
import { runLoad, type LoadOptions, type LoadRecording } from '../load/engine.js';
import { summarizeRoute, withSilentWorkers, type RouteReport } from '../load/summary.js';
import type { SchedulingPolicy } from '../cluster/policy.js';
import { ServerStartError, singleEntryPath, spawnServe, spawnServer, type SpawnedServer } from '../cluster/spawn.js';
import type { CompareOptions, WorkloadResult } from './runner.js';

/** A comparison cut short by its signal: half a comparison is not reported, only that everything was stopped. */
export class CompareInterrupted extends Error {
  override name = 'CompareInterrupted';
}

/** Throws CompareInterrupted once the signal has fired; called between the phases of a comparison. */
export function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CompareInterrupted('interrupted');
}

// runs: 6, the fewest with which a 95% interval of the median exists (statistics/interval.ts): fewer, and no verdict
// could say more than "no difference this run can show".
// app: requests per path of a user's app and run (its paths may be anything from a constant to a report).
export const COMPARE_DEFAULTS = { light: 4000, heavy: 60, mixedProbe: 100, mixedConcurrency: 4, runs: 6, app: 1000 } as const;

/** A user's app as both contenders (`compare --app`). */
export interface CompareApp {
  entry: string;
  args: string[];
  cwd?: string;
  listenTimeoutMs: number;
}

/**
 * `serve --app` arguments for a contender. Both run at once, so the app gets PORT=0 in its environment (unless the
 * user set PORT): an app that takes its port from PORT listens on a free one each time; one with a fixed port
 * cannot run twice, and the second start says so in one line.
 */
function appArgs(app: CompareApp): string[] {
  return ['--app', app.entry, ...(app.cwd ? ['--cwd', app.cwd] : []), '--listen-timeout', `${app.listenTimeoutMs}ms`, '--no-stats', '--', ...app.args];
}

/** An app with a fixed port: the second copy finds it taken; the line says why compare needs PORT. */
async function withPortHint(start: Promise<SpawnedServer>): Promise<SpawnedServer> {
  try {
    return await start;
  } catch (err) {
    if (err instanceof ServerStartError && err.message.includes('already in use')) {
      throw new ServerStartError(`${err.message}; compare runs two copies of the app at once and gives each PORT=0: let the app take its port from PORT (e.g. const port = process.env.PORT ?? 3000)`, err.output);
    }
    throw err;
  }
}

function appEnv(): NodeJS.ProcessEnv {
  return { PORT: process.env.PORT ?? '0' };
}

/** One run of one contender: its route report and what the generator spent on it. */
export interface Sample {
  report: RouteReport;
  cpu: { user: number; system: number };
  wallMs: number;
}

/**
 * The single process: the same handler without node:cluster, as a child process on a free port. A user's app:
 * one worker accepting on its own socket (`--sched none`), so the primary is out of its data path as in a plain
 * `node app.js`, and an app with its own cluster code still runs its worker branch only.
 */
export function startSingle(signal?: AbortSignal, app?: CompareApp): Promise<SpawnedServer> {
  if (app) return withPortHint(spawnServe(['--workers', '1', '--sched', 'none', ...appArgs(app)], { signal, env: appEnv() }));
  return spawnServer(singleEntryPath(), ['0', '127.0.0.1'], { signal });
}

/** `cluster-demo serve` with this many workers and policy, as a child process on a free port (or the user's app). */
export function startServe(workers: number, sched: SchedulingPolicy, signal?: AbortSignal, app?: CompareApp): Promise<SpawnedServer> {
  if (app) return withPortHint(spawnServe(['--workers', String(workers), '--sched', sched, ...appArgs(app)], { signal, env: appEnv() }));
  return spawnServe(['--port', '0', '--workers', String(workers), '--sched', sched], { signal });
}

/** JIT-compiles a server's paths and the engine before anything is measured; stops early on the signal. */
export async function warmUp(target: URL, load: Pick<LoadOptions, 'keepAlive' | 'connections'>, options: Pick<CompareOptions, 'n' | 'timeoutMs' | 'signal' | 'paths'>): Promise<void> {
  const warm = { target, ...load, timeoutMs: options.timeoutMs, retries: 0, signal: options.signal };
  if (options.paths) {
    for (const path of options.paths) await runLoad({ ...warm, path, concurrency: 10, requests: 200 });
    return stopIfAborted(options.signal);
  }
  await runLoad({ ...warm, path: '/pid', concurrency: 10, requests: 300 });
  await runLoad({ ...warm, path: `/api/${Math.min(options.n, 1_000_000)}`, concurrency: 4, requests: 20 });
  stopIfAborted(options.signal);
}

/** A route's report over every worker the contender runs, each one that answered nothing a row of 0. */
function summarize(route: string, recording: LoadRecording, pids: readonly number[]): RouteReport {
  return withSilentWorkers(summarizeRoute(route, recording, pids.length), pids.map((pid) => ({ pid })), pids.length);
}

export interface Workload {
  name: WorkloadResult['name'];
  /** A user's app: the path measured. */
  path?: string;
  description: string;
  /** `pids`: the workers the server runs, so that one that served nothing is a row of 0 and counts in fairness. */
  measure(target: URL, load: Pick<LoadOptions, 'keepAlive' | 'connections'>, pids: readonly number[]): Promise<RouteReport>;
}

export function workloadsFor(options: Pick<CompareOptions, 'concurrency' | 'timeoutMs' | 'durationMs' | 'requests' | 'n' | 'workers' | 'signal' | 'paths'>, names: ReadonlyArray<'light' | 'heavy' | 'mixed'> = ['light', 'heavy']): Workload[] {
  const base = { concurrency: options.concurrency, timeoutMs: options.timeoutMs, retries: 0, durationMs: options.durationMs, signal: options.signal };
  const count = (fallback: number) => (options.durationMs !== undefined ? undefined : (options.requests ?? fallback));
  // A user's app: one workload per path it names, whatever the mode asks of the demo's routes.
  if (options.paths) {
    return options.paths.map((path): Workload => ({
      name: 'app',
      path,
      description: `GET ${path}`,
      measure: async (target, load, pids) => summarize(path, await runLoad({ ...base, ...load, target, path, requests: count(COMPARE_DEFAULTS.app) }), pids),
    }));
  }
  const heavyPath = `/api/${options.n}`;
  const heavyConcurrency = Math.min(options.concurrency, 2 * options.workers);
  const light: Workload = {
    name: 'light',
    description: 'GET /pid',
    measure: async (target, load, pids) => summarize('/pid', await runLoad({ ...base, ...load, target, path: '/pid', requests: count(COMPARE_DEFAULTS.light) }), pids),
  };
  const heavy: Workload = {
    name: 'heavy',
    description: `GET ${heavyPath} (CPU-bound), concurrency ${heavyConcurrency}`,
    // Two requests queued per worker keep every core busy; more would only add an uneven tail at the end
    // (the last worker still computing while the others idle), which understates the cluster.
    measure: async (target, load, pids) =>
      summarize('/api/:n', await runLoad({ ...base, ...load, target, path: heavyPath, concurrency: heavyConcurrency, requests: count(COMPARE_DEFAULTS.heavy) }), pids),
  };
  const busy = Math.max(1, options.workers - 1);
  const mixed: Workload = {
    name: 'mixed',
    description: `GET /pid while ${busy} × ${heavyPath} stay in flight`,
    measure: async (target, load, pids) => {
      // Keep `busy` heavy requests running for as long as /pid is being probed, then let them drain.
      const stopHeavy = new AbortController();
      const signal = options.signal ? AbortSignal.any([stopHeavy.signal, options.signal]) : stopHeavy.signal;
      const heavyLoad = runLoad({ ...base, ...load, target, path: heavyPath, concurrency: busy, requests: undefined, durationMs: 600_000, signal });
      await new Promise((resolve) => setTimeout(resolve, 50));
      try {
        const probe = await runLoad({
          ...base,
          ...load,
          target,
          path: '/pid',
          concurrency: COMPARE_DEFAULTS.mixedConcurrency,
          requests: count(COMPARE_DEFAULTS.mixedProbe),
        });
        return summarize('/pid', probe, pids);
      } finally {
        stopHeavy.abort();
        await heavyLoad;
      }
    },
  };
  const all = { light, heavy, mixed };
  return names.map((name) => all[name]);
}

/** Runs one measurement and notes what it cost this process (the generator). */
export async function measureSample(workload: Workload, server: Pick<SpawnedServer, 'url' | 'readyPids'>, load: Pick<LoadOptions, 'keepAlive' | 'connections'>): Promise<Sample> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const report = await workload.measure(new URL(server.url), load, server.readyPids);
  return { report, cpu: process.cpuUsage(cpuBefore), wallMs: performance.now() - started };
}

