/**
 * Soak of the graceful stop and the rolling restart (`npm run soak`): round after round, a real `cluster-demo
 * serve` gets CPU-heavy requests queued behind its busy workers and then a SIGTERM (every request must be
 * answered, exit 0) or a SIGHUP (every request answered across the restart). Prints one line per policy and
 * signal: rounds, requests, requests without a response. Exit 1 if any request went unanswered.
 *
 *   npm run soak -- [--rounds 50] [--requests 20] [--sched rr,none]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { spawnServe } from '../src/cluster/spawn.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '50' }, requests: { type: 'string', default: '20' }, sched: { type: 'string', default: 'rr,none' } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);
const HEAVY = '/api/120000000';

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(`${url}${HEAVY}`, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function round(sched: string, signal: 'SIGTERM' | 'SIGHUP'): Promise<{ sent: number; unanswered: number; exit: string }> {
  const server = await spawnServe(['--port', '0', '--workers', '2', '--no-live', '--sched', sched]);
  try {
    let answered = 0;
    const replies = Array.from({ length: requests }, () => get(server.url).then((status) => (answered++, status)));
    while (answered < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    let exit = '';
    if (signal === 'SIGTERM') {
      const { code, signal: by } = await server.stop('SIGTERM', 30_000);
      exit = by ?? `code ${code}`;
    } else {
      server.child.kill('SIGHUP');
    }
    const statuses = await Promise.all(replies);
    if (signal === 'SIGHUP') {
      while (!server.events().some((e) => e.type === 'reload-finished')) await new Promise((resolve) => setTimeout(resolve, 20));
      exit = 'reloaded';
    }
    return { sent: requests, unanswered: statuses.filter((s) => s !== 200).length, exit };
  } finally {
    await server.stop('SIGTERM', 30_000);
  }
}

let failed = false;
for (const sched of values.sched!.split(',')) {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    let sent = 0;
    let unanswered = 0;
    const exits = new Map<string, number>();
    for (let i = 0; i < rounds; i++) {
      const r = await round(sched, signal);
      sent += r.sent;
      unanswered += r.unanswered;
      exits.set(r.exit, (exits.get(r.exit) ?? 0) + 1);
    }
    if (unanswered > 0) failed = true;
    const exitText = [...exits].map(([k, n]) => `${k} ×${n}`).join(', ');
    console.log(`--sched ${sched.padEnd(4)} ${signal}: ${rounds} rounds, ${sent} requests, ${unanswered} without a response (${exitText})`);
  }
}
process.exitCode = failed ? 1 : 0;
