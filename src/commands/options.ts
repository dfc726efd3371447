/**
 * Option parsers for commander: each turns a string into a value or throws InvalidArgumentError with a plain
 * sentence, which the CLI prints as one line and maps to exit code 2.
 */
import { InvalidArgumentError } from 'commander';
import os from 'node:os';
import { reusePortUnsupported, SCHED_POLICIES, type SchedulingPolicy } from '../server/policy.js';

const INTEGER = /^[0-9]+$/;

function got(value: string): string {
  return `(got ${JSON.stringify(value)})`;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!INTEGER.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`Must be a positive integer ${got(value)}`);
  }
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!INTEGER.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`Must be a whole number, 0 or more ${got(value)}`);
  }
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!INTEGER.test(value.trim()) || n > 65535) throw new InvalidArgumentError(`Must be a port number from 0 to 65535 ${got(value)}`);
  return n;
}

/** `--workers <n|max>`: max means os.availableParallelism(). */
export function parseWorkers(value: string): number {
  if (value.trim().toLowerCase() === 'max') return os.availableParallelism();
  try {
    return parsePositiveInt(value);
  } catch {
    throw new InvalidArgumentError(`Must be a positive integer or "max" ${got(value)}`);
  }
}

export function parseChoice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    const v = value.trim().toLowerCase();
    if ((choices as readonly string[]).includes(v)) return v as T;
    throw new InvalidArgumentError(`Must be one of ${choices.join(', ')} ${got(value)}`);
  };
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `10s`, `500ms`, `2m`, or a bare number of seconds; returns milliseconds. */
export function parseDurationMs(value: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)?\s*$/.exec(value);
  const ms = match ? Number(match[1]) * UNITS_MS[match[2] ?? 's']! : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError(`Must be a positive duration such as 10s, 500ms or 2m ${got(value)}`);
  return Math.round(ms);
}

/** Seconds that may be fractional, 0 or more (e.g. --grace 0.5). */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`Must be a number of seconds, 0 or more ${got(value)}`);
  return n;
}

/**
 * A base URL such as http://127.0.0.1:3000, or https://lb.example/app behind a load balancer; its path is kept
 * as a prefix of every route (routeUrl).
 */
export function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`Must be a URL such as http://127.0.0.1:3000 ${got(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`Must be an http:// or https:// URL ${got(value)}`);
  if (url.search || url.hash) throw new InvalidArgumentError(`Must be a base URL without ?query or #fragment ${got(value)}`);
  return url;
}

/** `--sched rr|none|reuseport`; reuseport on a Node without it is the user's one line, exit 2. */
export function parseSched(value: string): SchedulingPolicy {
  const policy = parseChoice(SCHED_POLICIES)(value);
  const unsupported = policy === 'reuseport' ? reusePortUnsupported() : null;
  if (unsupported) throw new InvalidArgumentError(unsupported);
  return policy;
}
