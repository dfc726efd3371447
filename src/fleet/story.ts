/**
 * What one balancer did with the load, as figures and one sentence written from them: how many client
 * connections the probe kept, how many hosts and workers they met, and, with --browser, the same per browser
 * scenario. Under l4 the balancer picks a host per connection, so kept connections cap the hosts (and, since the
 * host's cluster also hands out connections, the workers); under l7 it picks one per request. When the figures
 * say otherwise, the sentence says what was seen. Pure.
 */
import type { BrowserResult } from '../browser/experiment.js';
import type { ProbeResult } from '../probe/run.js';
import type { BalancerLayer, FleetInfo } from './fleet.js';
import { formatMs } from '../report/format.js';

export interface BalancerStoryRoute {
  path: string;
  hostsSeen: number;
  workersSeen: number;
  failed: number;
}

export interface BalancerStoryBrowser {
  scenario: string;
  protocol: string | null;
  connections: number;
  hostsSeen: number;
  pidsSeen: number;
}

export interface BalancerStory {
  layer: BalancerLayer;
  /** What the balancer picks an instance for. */
  balances: 'connections' | 'requests';
  /** Connections the probe kept open to the balancer (keep-alive cap, HTTP/2 sessions); null: a new one per request. */
  clientConnections: number | null;
  hostsExpected: number;
  workersExpected: number;
  routes: BalancerStoryRoute[];
  browser: BalancerStoryBrowser[];
  /** One sentence, from the figures above. */
  verdict: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function balancerStory(result: ProbeResult, fleet: FleetInfo, browser: BrowserResult | null): BalancerStory {
  const layer = fleet.lb.layer;
  const hostsExpected = fleet.hosts.length;
  const workersExpected = fleet.hosts.reduce((sum, h) => sum + h.workerPids.length, 0);
  const routes = result.routes.map((r) => ({ path: r.path, hostsSeen: r.hostsSeen, workersSeen: r.workersSeen, failed: r.failed }));
  const browserRows = (browser?.scenarios ?? []).map((s) => ({
    scenario: s.name,
    protocol: s.protocol,
    connections: s.connections.length,
    hostsSeen: new Set(s.requests.map((q) => q.host).filter((h) => h !== null)).size,
    pidsSeen: s.pids.length,
  }));
  const story = { layer, balances: layer === 'l4' ? 'connections' : 'requests', clientConnections: result.connections, hostsExpected, workersExpected, routes, browser: browserRows } as const;
  return { ...story, verdict: storyVerdict(story, fleet.maxConnectionAgeMs) };
}

/** The most hosts and workers any route of the run met: the figures a story speaks for. */
export function mostMet(story: Pick<BalancerStory, 'routes'>): { hosts: number; workers: number } {
  return { hosts: Math.max(0, ...story.routes.map((r) => r.hostsSeen)), workers: Math.max(0, ...story.routes.map((r) => r.workersSeen)) };
}

export function storyVerdict(story: Omit<BalancerStory, 'verdict'>, maxConnectionAgeMs: number | null): string {
  const { hosts, workers } = mostMet(story);
  const met = `${hosts} of ${story.hostsExpected} hosts and ${workers} of ${story.workersExpected} workers`;
  const k = story.clientConnections;
  const sent = k === null ? 'A new connection per request' : `${plural(k, 'kept client connection')}`;
  if (story.routes.length === 0) return 'No request was sent through the balancer.';
  if (story.layer === 'l7') {
    const note = k !== null && hosts > k ? ': it balances requests, not connections' : '';
    return `${sent} through the L7 balancer (nginx http) met ${met}${note}.`;
  }
  if (k === null) return `${sent} through the L4 balancer (nginx stream) met ${met}: every new connection is balanced again.`;
  if (hosts <= k) {
    return `${sent} through the L4 balancer (nginx stream) met ${met}: it picks a host per connection, and every request on a connection stays on the host, and the worker, that accepted it.`;
  }
  if (maxConnectionAgeMs !== null) {
    return `${sent} through the L4 balancer (nginx stream), yet ${met}: the instances ended connections older than ${formatMs(maxConnectionAgeMs)} (--max-connection-age), the client reconnected, and each new connection was balanced again.`;
  }
  return `${sent} through the L4 balancer (nginx stream), yet ${met}: more hosts than connections, so connections were reopened during the run.`;
}
