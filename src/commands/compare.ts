import { Command, Option } from 'commander';
import os from 'node:os';
import { COMPARE_DEFAULTS } from '../compare/workloads.js';
import { UsageError } from '../core/errors.js';
import { LIMITS, parsePositiveInt, parseWorkers, wholeNumber } from './options.js';
import { reportContext, reportFile } from './report-file.js';
import { addAppOptions, appFrom, durationOption, given, interruptible, newCommand, type AppFlags } from './common.js';

interface CompareFlags extends AppFlags {
  singleVsCluster?: boolean;
  keepaliveVsClose?: boolean;
  rrVsNone?: boolean;
  policies?: boolean;
  ws?: boolean;
  workers: number;
  concurrency: number;
  requests?: number;
  duration?: number;
  n: number;
  runs: number;
  timeout: number;
  connections: number;
  json: boolean;
  progress: boolean;
  color: boolean;
  report?: string;
}

export function makeCompareCommand(): Command {
  return addAppOptions(newCommand('compare'))
    .description('measure two setups side by side under the same load (default: single process vs cluster)')
    .option('--single-vs-cluster', 'one process vs the cluster, on light, heavy and mixed work (default)')
    .option('--keepalive-vs-close', 'keep-alive connections (--connections, default 1) vs a new connection per request')
    .option('--rr-vs-none', "Node's round-robin scheduling vs the OS's (NODE_CLUSTER_SCHED_POLICY)")
    .option('--policies', 'one process vs the cluster under rr, none and reuseport (Node 22.12+), one column each')
    .option('--ws', 'with --policies: 200 WebSockets, a worker killed, its clients reconnecting: how evenly rr, none, least-conn and ip-hash hold them after (3 runs unless --runs)')
    .option('-w, --workers <n|max>', 'cluster size', parseWorkers, os.availableParallelism())
    .option('-c, --concurrency <n>', 'requests in flight at once', wholeNumber(1, LIMITS.concurrency), 50)
    .option('-r, --requests <n>', 'requests per workload and run (default: 4000 light, 60 heavy, 100 mixed)', wholeNumber(1, LIMITS.requests))
    .addOption(durationOption('-d, --duration <time>', 'run each workload this long instead, e.g. 3s'))
    .addOption(new Option('--n <n>', 'n for the CPU-bound /api/:n').argParser(parsePositiveInt).default(50_000_000, '50000000, about 40 ms of work, so per-request overhead stays small'))
    .option('--runs <k>', 'repeat each measurement k times, alternating A B A B', wholeNumber(1, LIMITS.runs), COMPARE_DEFAULTS.runs)
    .option('--connections <n>', 'keep-alive side of --keepalive-vs-close: connections', wholeNumber(1, LIMITS.connections), 1)
    .addOption(durationOption('--timeout <time>', 'per-request timeout', 30_000))
    .option('--json', 'print one JSON document on stdout (schemas: docs/schema/)', false)
    .option('--report <file.html>', 'also write the comparison as one self-contained HTML page with charts (opens offline)')
    .option('--no-progress', 'no progress line on stderr')
    .option('--no-color', 'no colours')
    .addHelpText(
      'after',
      `
Examples:
  $ cluster-demo compare                         # = --single-vs-cluster, about 20 s on 2 cores
  $ cluster-demo compare --runs 5 --workers 4
  $ cluster-demo compare --keepalive-vs-close
  $ cluster-demo compare --rr-vs-none --json
  $ cluster-demo compare --policies              # single, rr, none, reuseport side by side
  $ cluster-demo compare --policies --ws         # open WebSockets after a worker dies: rr, none, least-conn, ip-hash
  $ cluster-demo compare --app ./app.js --path /report   # will clustering help your app? (it gets PORT=0)`,
    )
    .action(async (appArgs: string[], flags: CompareFlags, command: Command) => {
      if (flags.ws) return compareWsPolicies(command, flags);
      const app = appFrom(command, flags, appArgs);
      if (flags.path && !app) throw new UsageError("--path names the paths of your app: add --app (the demo server's workloads are fixed)", 'compare');
      if (app && given(command, 'n')) throw new UsageError("--n is for the demo server's /api/:n; with --app, name the paths with --path", 'compare');
      const modes = [
        flags.singleVsCluster && 'single-vs-cluster',
        flags.keepaliveVsClose && 'keepalive-vs-close',
        flags.rrVsNone && 'rr-vs-none',
        flags.policies && 'policies',
      ].filter((m): m is 'single-vs-cluster' | 'keepalive-vs-close' | 'rr-vs-none' | 'policies' => typeof m === 'string');
      if (modes.length > 1) throw new UsageError(`choose one mode, not ${modes.map((m) => `--${m}`).join(' and ')}`, 'compare');
      if (given(command, 'connections') && !flags.keepaliveVsClose) throw new UsageError('--connections is the keep-alive side of --keepalive-vs-close: add that mode, or leave it out', 'compare');
      const [{ runCompare, validateCompareOptions }, { renderCompareReport, renderCompareJson }, { makeChalk }] = await Promise.all([
        import('../compare/runner.js'),
        import('../report/compare-report.js'),
        import('../report/style.js'),
      ]);
      const mode = modes[0] ?? ('single-vs-cluster' as const);
      const options = {
        mode: mode === 'policies' ? ('single-vs-cluster' as const) : mode,
        workers: flags.workers,
        concurrency: flags.concurrency,
        requests: flags.requests,
        durationMs: flags.duration,
        n: flags.n,
        runs: flags.runs,
        timeoutMs: flags.timeout,
        connections: flags.connections,
        app,
        paths: flags.path,
      };
      validateCompareOptions(options);
      const report = reportFile(flags.report, 'compare');
      const c = makeChalk(flags.json ? false : flags.color);
      const status = makeChalk(flags.color);
      const live = flags.progress && process.stderr.isTTY === true;
      const started = Date.now();
      const observer = {
        onStatus: live ? (line: string) => process.stderr.write(`\r\x1b[2K${status.dim(`compare · ${((Date.now() - started) / 1000).toFixed(0)} s · ${line}`)}`) : undefined,
      };
      // Ctrl-C: the load stops, every server is stopped, exit 130 (half a comparison is not reported).
      const orInterrupted = <T>(work: (signal: AbortSignal) => Promise<T>) =>
        interruptible(work, 'interrupted: every server was stopped; nothing to compare yet', () => live && process.stderr.write('\r\x1b[2K'));
      if (mode === 'policies') {
        const [{ runPolicies }, { renderPoliciesReport }] = await Promise.all([import('../compare/policies.js'), import('../report/policies-report.js')]);
        const policies = await orInterrupted((signal) => runPolicies({ ...options, signal }, observer));
        if (!policies) return;
        if (live) process.stderr.write('\r\x1b[2K');
        process.stdout.write(`${flags.json ? JSON.stringify(policies, null, 2) : renderPoliciesReport(policies, c)}\n`);
        if (report) report.write((await import('../report/html/compare-html.js')).renderPoliciesHtml(policies, reportContext()));
        process.exitCode = policies.workloads.some((w) => w.results.some((r) => r.failed > 0)) ? 1 : 0;
        return;
      }
      const result = await orInterrupted((signal) => runCompare({ ...options, signal }, observer));
      if (!result) return;
      if (live) process.stderr.write('\r\x1b[2K');
      process.stdout.write(`${flags.json ? renderCompareJson(result) : renderCompareReport(result, c)}\n`);
      if (report) report.write((await import('../report/html/compare-html.js')).renderCompareHtml(result, reportContext()));
      const failed = result.workloads.some((w) => w.a.failed + w.b.failed > 0);
      process.exitCode = failed ? 1 : 0;
    });
}

/** `compare --policies --ws`: each policy's open-socket balance after a worker dies, side by side. */
async function compareWsPolicies(command: Command, flags: CompareFlags): Promise<void> {
  if (!flags.policies) throw new UsageError('--ws compares the policies on WebSockets: add --policies (or try `cluster-demo probe --ws`)', 'compare');
  for (const other of ['app', 'path', 'requests', 'duration', 'n', 'concurrency', 'connections', 'report']) {
    if (given(command, other)) throw new UsageError(`--${other} does not apply to --policies --ws (200 WebSockets per run, fixed so runs compare)`, 'compare');
  }
  const [{ runWsPolicies }, { renderWsPoliciesReport }, { makeChalk }] = await Promise.all([import('../compare/ws-policies.js'), import('../report/ws-policies-report.js'), import('../report/style.js')]);
  const c = makeChalk(flags.json ? false : flags.color);
  const status = makeChalk(flags.color);
  const live = flags.progress && process.stderr.isTTY === true;
  const result = await interruptible(
    (signal) => runWsPolicies({ workers: flags.workers, connections: 200, runs: given(command, 'runs') ? flags.runs : 3, signal, onStatus: live ? (line) => process.stderr.write(`\r\x1b[2K${status.dim(`compare --policies --ws · ${line}`)}`) : undefined }),
    'interrupted: every server was stopped; nothing to compare yet',
    () => live && process.stderr.write('\r\x1b[2K'),
  );
  if (!result) return;
  if (live) process.stderr.write('\r\x1b[2K');
  process.stdout.write(`${flags.json ? JSON.stringify(result, null, 2) : renderWsPoliciesReport(result, c)}\n`);
  process.exitCode = result.results.some((r) => r.runs.some((x) => x.unconnected > 0)) ? 1 : 0;
}
