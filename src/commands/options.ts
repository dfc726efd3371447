/**
 * Option parsers for commander: each turns a string into a value or throws InvalidArgumentError with a plain
 * sentence, which the CLI prints as one line and maps to exit code 2.
 */
import { InvalidArgumentError } from 'commander';
import os from 'node:os';
import { reusePortUnsupported, SCHED_POLICIES, type SchedulingPolicy } from '../cluster/policy.js';

const INTEGER = /^[0-9]+$/;

function got(value: string): string {
  return `(got ${JSON.stringify(value)})`;
}

/**
 * The largest value each number may take: past these a run cannot work on any machine it is meant for (a fork per
 * worker, a socket per connection, a timer per duration), and Node itself would throw deep inside. Checked at
 * parse time, so a mistake is one line and exit 2, never a stack or a hang.
 */
export const LIMITS = {
  /** Processes forked per cluster (`max` is the machine's CPU count, far below). */
  workers: 256,
  /** fleet: cluster instances, each with its own primary and workers. */
  hosts: 16,
  concurrency: 10_000,
  /** Per route; 10 M new connections would also outrun the ephemeral ports many times over. */
  requests: 10_000_000,
  connections: 10_000,
  tabs: 32,
  fetches: 256,
  runs: 100,
  retries: 100,
  /** fleet: nginx's idle upstream connections per worker process. */
  lbKeepalive: 1_024,
  /** Every duration: a day. Node's timers stop at about 24.8 days and warn, then fire at once. */
  durationMs: 24 * 60 * 60 * 1000,
  graceSeconds: 3_600,
  /** Node refuses a headers timeout above its request timeout (300 s). */
  headersTimeoutSeconds: 300,
} as const;

/** A whole number from `min` to `max`, e.g. `--concurrency` (1 to 10000). */
export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!INTEGER.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`Must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')} ${got(value)}`);
    }
    return n;
  };
}

/** A positive safe integer with no bound but its own meaning (n of /api/:n, --max-n). */
export function parsePositiveInt(value: string): number {
  return wholeNumber(1, Number.MAX_SAFE_INTEGER)(value);
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
    return wholeNumber(1, LIMITS.workers)(value);
  } catch {
    throw new InvalidArgumentError(`Must be "max" or a whole number from 1 to ${LIMITS.workers} ${got(value)}`);
  }
}

export function parseChoice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    const v = value.trim().toLowerCase();
    if ((choices as readonly string[]).includes(v)) return v as T;
    throw new InvalidArgumentError(`Must be one of ${choices.join(', ')} ${got(value)}`);
  };
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * `10s`, `500ms`, `2m`, `1h`; returns milliseconds. A bare number is refused: "500" reads as 500 ms to some and
 * 500 s to others (k6 and oha want the unit too), and a wrong guess silently changes the run.
 */
export function parseDurationMs(value: string): number {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (match && match[2] === undefined) throw new InvalidArgumentError(`Needs a unit: say ${match[1]}ms or ${match[1]}s ${got(value)}`);
  const ms = match ? Number(match[1]) * UNITS_MS[match[2]!]! : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError(`Must be a positive duration such as 10s, 500ms or 2m ${got(value)}`);
  if (ms > LIMITS.durationMs) throw new InvalidArgumentError(`Must be at most 24h ${got(value)}`);
  return Math.max(1, Math.round(ms));
}

/** A duration as the help and the reports write it: 10s, 500ms, 2m. */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Seconds that may be fractional, from 0 to `max` (e.g. --grace 0.5). */
export function seconds(max: number, why = ''): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`Must be a number of seconds from 0 to ${max.toLocaleString('en-US')}${why} ${got(value)}`);
    return n;
  };
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
  if (url.username || url.password) {
    // Never echoed: the password would land in the terminal's scrollback and in every report header.
    throw new InvalidArgumentError(`Must not carry a user name or password: the probe sends no credentials, and they would be printed in its reports ${got(value.replace(/\/\/[^/]*@/, '//***@'))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`Must be an http:// or https:// URL ${got(value)}`);
  if (url.search || url.hash) throw new InvalidArgumentError(`Must be a base URL without ?query or #fragment ${got(value)}`);
  return url;
}

/** `--host`: an address or name to bind; empty would bind every interface without saying so. */
export function parseHost(value: string): string {
  const host = value.trim();
  if (host === '') throw new InvalidArgumentError('Must be an address such as 127.0.0.1, or 0.0.0.0 to listen on every interface (got "")');
  return host;
}

/** `--sched rr|none|reuseport`; reuseport on a Node without it is the user's one line, exit 2. */
export function parseSched(value: string): SchedulingPolicy {
  const policy = parseChoice(SCHED_POLICIES)(value);
  const unsupported = policy === 'reuseport' ? reusePortUnsupported() : null;
  if (unsupported) throw new InvalidArgumentError(unsupported);
  return policy;
}
