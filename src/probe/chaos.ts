/** --chaos: workers SIGKILLed under load, their replacements, and the failures each death caused. */
import type { LoadRecording } from '../load/engine.js';
import type { ClusterEvent, RunningCluster } from '../cluster/primary.js';
import { attributeFailures } from '../statistics/attribution.js';
import type { ProbeResult, WorkerDeath } from './run.js';

export async function waitForAllListening(cluster: RunningCluster, workers: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const live = cluster.workers;
    if (live.length >= workers && live.every((w) => w.listening)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Deaths during the run, their replacements and the failures in flight when they died. */
export function summarizeDeaths(events: ClusterEvent[], recordings: LoadRecording[], startedWall: number, intervalMs: number): NonNullable<ProbeResult['chaos']> {
  const deaths: WorkerDeath[] = [];
  for (const event of events) {
    if (event.type !== 'worker-died') continue;
    const killedByChaos = events.some((e) => e.type === 'worker-killed' && e.reason === 'chaos' && e.pid === event.pid);
    const replacement = events.find((e) => e.type === 'worker-listening' && e.slot === event.slot && e.at >= event.at);
    deaths.push({
      pid: event.pid,
      atMs: event.at - startedWall,
      cause: killedByChaos ? 'chaos' : 'crash',
      replacementPid: replacement && replacement.type === 'worker-listening' ? replacement.pid : null,
      replacementMs: replacement ? replacement.at - event.at : null,
      failedRequests: 0,
    });
  }
  // Failures carry performance.now() times; line them up with the deaths' wall-clock times.
  const failures = recordings.flatMap((r) =>
    r.collector.failures.map((f) => ({ ...f, startedAt: f.startedAt - r.startedAt + r.wallStartedAt, failedAt: f.failedAt - r.startedAt + r.wallStartedAt })),
  );
  const { byPid, unattributed } = attributeFailures(failures, deaths.map((d) => ({ pid: d.pid, at: d.atMs + startedWall })));
  for (const death of deaths) death.failedRequests = byPid.get(death.pid) ?? 0;
  return { intervalMs, deaths, unattributedFailures: unattributed };
}
