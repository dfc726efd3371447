/** --reload: a rolling restart started once the load is running; the load is held open until it is done. */
import type { RunningCluster } from '../cluster/primary.js';
import type { ProbeResult } from './run.js';

/** How long the load runs before the restart begins, so that it happens under load. */
export const RELOAD_AFTER_MS = 300;

export async function reloadUnderLoad(cluster: RunningCluster): Promise<Omit<NonNullable<ProbeResult['reload']>, 'steps'>> {
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, RELOAD_AFTER_MS));
  const result = await cluster.reload();
  return { replaced: result.replaced, durationMs: Date.now() - started };
}
