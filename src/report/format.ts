/**
 * Numbers as every report writes them: pure, with no import, so the dashboard's browser script (src/dashboard/)
 * bundles the same functions the terminal reports use.
 */

/** A latency that may not exist (a worker that answered nothing): '–'. */
export function formatMsOrDash(ms: number | null): string {
  return ms === null ? '–' : formatMs(ms);
}

export function formatMs(ms: number): string {
  // The unit and precision are chosen on the rounded value, so 99.96 reads "100 ms", not "100.0 ms".
  if (Number(ms.toFixed(0)) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (Number(ms.toFixed(1)) >= 100) return `${ms.toFixed(0)} ms`;
  if (Number(ms.toFixed(2)) >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
