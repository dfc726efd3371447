/**
 * The explanation table of `fleet`: what a connection balancer (L4) and a request balancer (L7) do with a client's
 * kept connection, the fix for L4, and, in the last column, what this run measured through each. Pure.
 */
import type { ChalkInstance } from 'chalk';
import type { BalancerLayer } from '../fleet/fleet.js';
import { mostMet, type BalancerStory } from '../fleet/story.js';
import { makeTable } from './style.js';

export interface BalancerKind {
  layer: BalancerLayer;
  name: string;
  examples: string;
  /** What one kept client connection (keep-alive, HTTP/2, gRPC, a WebSocket) meets behind it. */
  keptConnectionMeets: string;
  /** How to spread such clients again. */
  fix: string;
}

export const BALANCER_KINDS: readonly BalancerKind[] = [
  {
    layer: 'l4',
    name: 'L4: connections',
    examples: 'nginx stream, kube-proxy (a Service), cloud network LBs, HAProxy mode tcp',
    keptConnectionMeets: '1 host, 1 worker, for the life of the connection',
    fix: 'an L7 proxy in front; client-side balancing over a headless Service; a maximum connection age (Connection: close, GOAWAY: serve --max-connection-age)',
  },
  {
    layer: 'l7',
    name: 'L7: requests',
    examples: 'nginx http, Envoy, HAProxy mode http, a service mesh',
    keptConnectionMeets: 'every host: each request is balanced on its own',
    fix: 'nothing to fix across hosts; within a host, the cluster still spreads the proxy\'s own connections',
  },
];

/** "1 kept connection → 1 of 3 hosts, 1 of 6 workers", from a story's busiest route. */
export function measuredSpread(story: BalancerStory): string {
  const { hosts, workers } = mostMet(story);
  const k = story.clientConnections;
  const sent = k === null ? 'a new connection per request' : `${k} kept connection${k === 1 ? '' : 's'}`;
  return `${sent} → ${hosts} of ${story.hostsExpected} hosts, ${workers} of ${story.workersExpected} workers`;
}

export function renderBalancerTable(stories: readonly BalancerStory[], c: ChalkInstance): string {
  const table = makeTable(['balancer', 'e.g.', 'a kept connection meets', 'to spread it', 'measured here'], ['left', 'left', 'left', 'left', 'left'], c, { rowLines: true });
  for (const kind of BALANCER_KINDS) {
    const story = stories.find((s) => s.layer === kind.layer);
    table.push([c.bold(kind.name), wrap(kind.examples, 30), wrap(kind.keptConnectionMeets, 24), wrap(kind.fix, 40), story ? wrap(measuredSpread(story), 30) : c.dim(`not run (--lb ${kind.layer})`)]);
  }
  return table.toString();
}

/** Words to lines of at most `width` characters (cli-table3's own wrapping counts colour codes). */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}
