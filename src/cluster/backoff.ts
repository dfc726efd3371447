/**
 * When to respawn a worker that died: at once after a deliberate kill or a long life, ever more slowly when it
 * keeps dying soon after starting (never a tight fork loop). Pure; tested with literal numbers.
 */

export interface BackoffOptions {
  /** Delay before the first quick respawn, ms. */
  initialMs: number;
  factor: number;
  maxMs: number;
  /** A worker that stayed up this long resets its slot's backoff, ms. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, factor: 1.5, maxMs: 15_000, stableMs: 30_000 };

export interface RespawnDecision {
  /** How long to wait before forking the replacement, ms. */
  delayMs: number;
  /** The slot's count of quick deaths after this one. */
  quickDeaths: number;
}

/**
 * `quickDeaths`: how many times in a row this slot's worker died soon after starting. A deliberate kill (chaos)
 * is not such a death: otherwise a long --chaos run would back every slot off towards maxMs, until the cluster
 * has no worker left to take connections.
 */
export function respawnDecision(uptimeMs: number, killedOnPurpose: boolean, quickDeaths: number, backoff: BackoffOptions = DEFAULT_BACKOFF): RespawnDecision {
  const quick = uptimeMs < backoff.stableMs && !killedOnPurpose;
  const before = uptimeMs >= backoff.stableMs ? 0 : quickDeaths;
  if (!quick) return { delayMs: 0, quickDeaths: before };
  return { delayMs: Math.min(backoff.maxMs, Math.round(backoff.initialMs * backoff.factor ** before)), quickDeaths: before + 1 };
}
