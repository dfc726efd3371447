import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { round } from './fairness.js';

/**
 * Latencies live in Node's HDR histograms (perf_hooks.createHistogram): constant memory however many requests
 * are recorded. Values are recorded in microseconds (the histogram stores integers).
 */
export type LatencyHistogram = RecordableHistogram;

export function newLatencyHistogram(): LatencyHistogram {
  return createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });
}

export function recordMs(histogram: LatencyHistogram, ms: number): void {
  histogram.record(Math.max(1, Math.round(ms * 1000)));
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Percentiles in milliseconds; all zeros for an empty histogram. */
export function summarizeLatency(histogram: LatencyHistogram): LatencySummary {
  if (histogram.count === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  const ms = (us: number) => round(us / 1000);
  return { p50: ms(histogram.percentile(50)), p90: ms(histogram.percentile(90)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
}
