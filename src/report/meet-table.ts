/**
 * One table, everywhere the tool explains a browser's single PID (probe's closing lines, the browser report,
 * the README): what the browser sends over which connections under HTTP/1.1 and HTTP/2, and which balancer
 * spreads what (the cluster and an L4 balancer: connections; a proxy such as nginx: requests). The browser report fills the last
 * column with what it measured. Pure.
 */
import type { ChalkInstance } from 'chalk';
import { makeTable } from './style.js';

export interface MeetRow {
  protocol: string;
  /** What the browser sends, and when. */
  sends: string;
  /** Over which connections. */
  over: string;
  /** Who spreads what. */
  spreads: string;
  /** What one browser meets: the mechanism's consequence, or what was measured. */
  meets: string;
}

/** The mechanism, as Chromium and the cluster behave (figures measured: docs/browser.md). */
export const HOW_A_BROWSER_MEETS_THE_CLUSTER: readonly MeetRow[] = [
  { protocol: 'HTTP/1.1', sends: 'same URL: one at a time (cache lock)', over: 'the idle keep-alive connection, again', spreads: 'the cluster: connections', meets: '1 worker' },
  { protocol: 'HTTP/1.1', sends: 'distinct URLs, fetches: at once', over: 'up to 6 connections per host', spreads: 'the cluster: connections', meets: 'up to 6 workers' },
  { protocol: 'HTTP/2', sends: 'everything, multiplexed', over: '1 connection per origin', spreads: 'the cluster: connections', meets: '1 worker' },
  { protocol: 'HTTP/2 via nginx', sends: 'everything, multiplexed', over: '1 connection to nginx; nginx keeps its own upstream', spreads: 'nginx: requests', meets: 'many workers' },
  { protocol: 'HTTP/2 via an L4 LB', sends: 'everything, multiplexed', over: '1 connection, passed through to one host', spreads: 'the L4 balancer: connections', meets: '1 host, 1 worker' },
];

export function renderMeetTable(rows: readonly MeetRow[], c: ChalkInstance, meetsHead = 'one browser meets'): string {
  const table = makeTable(['', 'the browser sends', 'over', 'spread by', meetsHead], ['left', 'left', 'left', 'left', 'left'], c);
  for (const r of rows) table.push([c.bold(r.protocol), r.sends, r.over, r.spreads, r.meets]);
  return table.toString();
}
