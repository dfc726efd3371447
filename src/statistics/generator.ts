/**
 * What the load generator cost itself: CPU time per request and the share of one core it used. On a machine
 * where the generator shares the cores with the server, a generator near a full core is measuring itself as
 * much as the server. Pure; tested with literal numbers.
 */
import { round } from './fairness.js';

export interface GeneratorCost {
  cpuUserMs: number;
  cpuSystemMs: number;
  /** (user + system) / requests, µs. */
  cpuPerRequestUs: number;
  /** (user + system) / wall time: 1 = one full core. */
  coreShare: number;
}

/** Above this share of one core, the figures may measure the generator rather than the server. */
export const GENERATOR_SATURATED = 0.9;

/** `cpu` as process.cpuUsage() deltas (µs), over `wallMs` of load that completed `requests`. */
export function generatorCost(cpu: { user: number; system: number }, requests: number, wallMs: number): GeneratorCost {
  const totalUs = cpu.user + cpu.system;
  return {
    cpuUserMs: round(cpu.user / 1000, 1),
    cpuSystemMs: round(cpu.system / 1000, 1),
    cpuPerRequestUs: requests > 0 ? round(totalUs / requests, 1) : 0,
    coreShare: wallMs > 0 ? round(totalUs / 1000 / wallMs, 3) : 0,
  };
}

/** Sums CPU deltas (e.g. one per route or per run). */
export function addCpu(a: { user: number; system: number }, b: { user: number; system: number }): { user: number; system: number } {
  return { user: a.user + b.user, system: a.system + b.system };
}
