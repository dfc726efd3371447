/** `probe --ws` / `--sse` as text and JSON: pure functions of the result. */
import type { ChalkInstance } from 'chalk';
import type { LongLivedProbeResult, LongLivedWorker } from '../probe/long-lived-run.js';
import { bar, formatInt, formatMs, makeTable } from './style.js';

const BAR_WIDTH = 24;

/** How each policy hands out a new connection, for the verdict on the balance after reconnects. */
const POLICY_HANDS_OUT: Record<string, string> = {
  rr: 'round-robin hands out each new connection in turn, whatever the workers hold',
  none: 'the workers accept new connections from one shared socket as they get to it',
  reuseport: 'the kernel deals new connections to the sockets by hash',
  'least-conn': 'least-conn sends each new connection to the worker with the fewest open, but only among the workers listening when it arrives',
  'ip-hash': 'ip-hash sends each client where its address hashes to, whatever the workers hold',
  unknown: 'the server hands out each new connection as it arrives',
};
const NAME = { ws: 'WebSocket', sse: 'event stream' } as const;

function ratio(value: number | null): string {
  return value === null ? '∞ (a worker holds none)' : `${value.toFixed(2)}×`;
}

function pidLabel(w: LongLivedWorker, result: LongLivedProbeResult): string {
  const d = result.disruption;
  if (d?.killed.includes(w.pid)) return `${w.pid} †`;
  if (d?.replaced.some((r) => r.oldPid === w.pid)) return `${w.pid} (replaced)`;
  if (d?.replaced.some((r) => r.newPid === w.pid)) return `${w.pid} (new)`;
  if (d && w.openAtStart === 0 && !w.gone) return `${w.pid} (replacement)`;
  return String(w.pid);
}

/** The verdicts, from what was measured. */
export function longLivedVerdicts(result: LongLivedProbeResult): Array<{ ok: boolean; text: string }> {
  const name = NAME[result.kind];
  const out: Array<{ ok: boolean; text: string }> = [];
  out.push(result.opened === result.connections
    ? { ok: true, text: `${formatInt(result.connections)} ${name}s opened, each on a new TCP connection` }
    : { ok: false, text: `${formatInt(result.opened)} of ${formatInt(result.connections)} ${name}s opened: ${result.openErrors.map((e) => `${e.message} (${e.count})`).join('; ')}` });
  const p = result.pinned;
  const what = result.kind === 'ws' ? 'message' : 'tick';
  if (p.connections > 0) {
    out.push(p.oneWorker === p.connections
      ? { ok: true, text: `every ${what} of one connection met one worker: ${formatInt(p.connections)} of ${formatInt(p.connections)} connections, ${formatInt(p.messages)} ${what}s, none answered elsewhere` }
      : { ok: false, text: `${formatInt(p.connections - p.oneWorker)} connections had ${formatInt(p.foreignMessages)} ${what}s answered by a worker other than the one that greeted them` });
  }
  const holding = result.workers.filter((w) => w.openAtStart > 0).length;
  const expected = result.workersExpected;
  if (expected !== null) {
    const trap = result.policy === 'ip-hash' && (result.sourceAddresses ?? 1) < expected
      ? ` — ip-hash sends a client where its address hashes to, and all ${formatInt(result.connections)} came from ${result.sourceAddresses ?? 'one'} address${(result.sourceAddresses ?? 1) === 1 ? '' : 'es'}: the proxy trap (behind a proxy or NAT every client has its address); --source-addresses 8 spreads them`
      : '';
    out.push(holding >= expected
      ? { ok: true, text: `all ${expected} workers accepted connections (busiest ÷ least busy: ${ratio(result.balance.atStart)})` }
      : { ok: false, text: `only ${holding} of ${expected} workers accepted connections${trap}` });
  }
  const d = result.disruption;
  if (d) {
    const cause = [d.killed.length > 0 ? `${d.killed.length} worker${d.killed.length === 1 ? '' : 's'} killed` : '', d.replaced.length > 0 ? `${d.replaced.length} replaced by a rolling restart` : ''].filter(Boolean).join(', ') || 'nothing was killed or replaced';
    const codes = Object.entries(d.closeCodes).map(([code, n]) => `${n}× ${code}${code === '1001' ? ' going away' : code === '1006' ? ' cut' : ''}`).join(', ');
    out.push({ ok: d.unconnected === 0, text: `${cause}: the server ended ${formatInt(d.serverClosed)} connections${codes ? ` (${codes})` : ''}, the clients reconnected ${formatInt(d.reconnects)} times${d.unconnected > 0 ? `, ${formatInt(d.unconnected)} still without a connection at the end` : ', every one holds a connection again'}` });
    const before = result.balance.atStart;
    const after = result.balance.atEnd;
    const uneven = after === null || (before !== null && after > before * 1.2);
    const stayed = result.workers.filter((w) => w.openAtStart > 0 && !w.gone);
    const how = POLICY_HANDS_OUT[result.policy ?? 'unknown'] ?? POLICY_HANDS_OUT.unknown!;
    const why = stayed.length > 0
      ? ` — ${how}, and an open connection is never moved: ${stayed.map((w) => `${w.pid} kept its ${formatInt(w.openAtStart)} and took reconnects (${formatInt(w.openAtEnd)} now)`).join(', ')}`
      : ` — ${how}, and an open connection is never moved: the reconnects landed on whichever workers were listening at that moment`;
    out.push({ ok: true, text: `open connections per live worker, busiest ÷ least busy: ${ratio(before)} before, ${ratio(after)} after${uneven ? why : ''}` });
  }
  return out;
}

export function renderLongLivedReport(result: LongLivedProbeResult, c: ChalkInstance): string {
  const lines: string[] = [];
  const name = NAME[result.kind];
  const messages = result.kind === 'ws' ? `, ${result.messagesPerConnection} message${result.messagesPerConnection === 1 ? '' : 's'} each` : '';
  lines.push(c.bold(`${formatInt(result.connections)} ${name}s to ${result.target}${result.kind === 'ws' ? 'ws' : 'sse'}${messages}, held ${formatMs(result.holdMs)}${result.sourceAddresses ? `, from ${result.sourceAddresses} source address${result.sourceAddresses === 1 ? '' : 'es'}` : ''}${result.policy ? ` (in-process cluster, --sched ${result.policy})` : ''}`));
  const disrupted = result.disruption !== null;
  const head = ['worker PID', disrupted ? 'open before' : 'open', ...(disrupted ? ['open after'] : []), ...(result.serverCounted ? ['server: open', 'accepted', ...(result.kind === 'ws' ? ['messages'] : [])] : []), 'share'];
  const table = makeTable(head, head.map((_, i) => (i === 0 || i === head.length - 1 ? 'left' : 'right')), c);
  const max = Math.max(1, ...result.workers.map((w) => (disrupted ? w.openAtEnd : w.openAtStart)));
  for (const w of result.workers) {
    const shown = disrupted ? w.openAtEnd : w.openAtStart;
    const server = result.serverCounted ? (w.server ? [formatInt(w.server.open), formatInt(w.server.accepted), ...(result.kind === 'ws' ? [formatInt(w.server.messages)] : [])] : ['–', '–', ...(result.kind === 'ws' ? ['–'] : [])]) : [];
    table.push([pidLabel(w, result), formatInt(w.openAtStart), ...(disrupted ? [formatInt(w.openAtEnd)] : []), ...server, c.green(bar(shown, max, BAR_WIDTH))]);
  }
  lines.push(table.toString());
  for (const v of longLivedVerdicts(result)) lines.push(`${v.ok ? c.green('✓') : c.red('✗')} ${v.text}`);
  if (result.serverCounted) lines.push(c.dim('open: the clients\' view; server: the cluster\'s own count (/_cluster/stats), open at the end, accepted and answered during the run'));
  return lines.join('\n');
}

export function renderLongLivedJson(result: LongLivedProbeResult): string {
  return JSON.stringify(result, null, 2);
}
