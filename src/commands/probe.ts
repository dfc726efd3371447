import { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import os from 'node:os';
import { LIMITS, parseBaseUrl, parseSched, parseWorkers, wholeNumber } from './options.js';
import type { SchedulingPolicy } from '../cluster/primary.js';
import { reportContext, reportFile } from './report-file.js';
import { addAppOptions, addLoadOptions, addOutputOptions, appFrom, durationOption, given, interruptible, loadOptionsFrom, newCommand, type AppFlags, type LoadFlags, type OutputFlags } from './common.js';

interface ProbeFlags extends LoadFlags, OutputFlags, AppFlags {
  url?: URL;
  workers: number;
  sched: SchedulingPolicy;
  expectWorkers?: number;
  expectHosts?: number;
  retries: number;
  insecure: boolean;
  tls: boolean;
  chaos?: number;
  reload: boolean;
  ws: boolean;
  sse: boolean;
  messages: number;
  sourceAddresses?: number;
}

export function makeProbeCommand(): Command {
  const command = newCommand('probe')
    .description('fire concurrent requests and show which worker PIDs answered (boots the cluster in-process unless --url)')
    .option('-u, --url <base>', 'probe a server that is already running (ours, the seed\'s Express app, or a load balancer: http or https, path prefix kept)', parseBaseUrl);
  return addOutputOptions(addAppOptions(addLoadOptions(command))
    .option('-w, --workers <n|max>', 'in-process cluster size', parseWorkers, os.availableParallelism())
    .option('--sched <policy>', 'scheduling policy of the in-process cluster: rr, none, reuseport (Node 22.12+), least-conn or ip-hash', parseSched, 'rr')
    .option('--expect-workers <n>', 'fail unless this many workers answer (default: --workers in-process)', wholeNumber(1, 100_000))
    .option('--expect-hosts <n>', 'fail unless this many hosts (x-hostname) answer, e.g. behind a load balancer', wholeNumber(1, 100_000))
    .option('--retries <n>', 'retry a request that failed on a connection error (reset, refused) up to n times', wholeNumber(0, LIMITS.retries), 0)
    .option('--insecure', 'https: accept a certificate that does not verify (self-signed)', false)
    .option('--tls', 'in-process: the cluster serves https (HTTP/1.1 over TLS; its own self-signed certificate is trusted)', false)
    .addOption(durationOption('--chaos <interval>', 'in-process: SIGKILL a random worker every interval, e.g. 500ms'))
    .option('--reload', 'in-process: rolling restart in the middle of the run', false)
    .option('--ws', 'hold long-lived WebSockets to /ws instead of requests (--connections, default 200; --duration to hold, default 2s)', false)
    .option('--sse', 'hold long-lived event streams from /sse instead of requests (as --ws)', false)
    .option('--messages <n>', 'with --ws: messages each socket sends, one after another', wholeNumber(0, 100_000), 5)
    .option('--source-addresses <n>', 'with --ws/--sse: connect from 127.0.0.2 … 127.0.0.(n+1) in turn (loopback targets), as n different clients (--sched ip-hash)', wholeNumber(1, 253)),
  )
    .addHelpText(
      'after',
      `
Exit codes: 0 every expected worker (and host) served and nothing failed · 1 a worker or host served nothing, or requests failed · 2 usage error

Examples:
  $ cluster-demo probe                                   # in-process cluster, /pid then /api/:n
  $ cluster-demo probe --concurrency 50 --route pid --requests 5000
  $ cluster-demo probe --keep-alive --connections 1      # one connection for everything: one PID
  $ cluster-demo probe --h2                              # HTTP/2, 50 streams on 1 connection: one PID
  $ cluster-demo probe --h2 --connections 8              # 8 HTTP/2 connections: every worker
  $ cluster-demo browser                                 # what a real browser does, and why
  $ cluster-demo probe --url http://127.0.0.1:3000 --expect-workers 4
  $ cluster-demo probe --url https://lb.example/app --expect-hosts 3 --expect-workers 12
  $ cluster-demo probe --app ./app.js --path / --path /users/1   # your own app, clustered
  $ cluster-demo probe --chaos 500ms --retries 1         # kill workers under load
  $ cluster-demo probe --ws                              # 200 WebSockets: each pinned to one worker
  $ cluster-demo probe --ws --chaos 1s --duration 3s     # kill workers under open sockets: who holds them after
  $ cluster-demo probe --json > probe.json`,
    )
    .action(async (appArgs: string[], flags: ProbeFlags, command: Command) => {
      if (flags.ws || flags.sse) return probeLongLived(command, flags);
      const app = appFrom(command, flags, appArgs);
      if (flags.path && given(command, 'route')) throw new UsageError('--path names what to request; --route picks among the demo server\'s routes: give one', 'probe');
      if (app && given(command, 'n')) throw new UsageError('--n is for the demo server\'s /api/:n; with --app, name the paths with --path', 'probe');
      if (flags.url && given(command, 'workers')) throw new UsageError('--workers sizes the in-process cluster; with --url the server decides (check its count with --expect-workers)', 'probe');
      const [{ runProbe, probeExitCode, validateProbeOptions }, { renderProbeReport, renderProbeJson }, { createLiveView }, { makeChalk }] = await Promise.all([
        import('../probe/run.js'),
        import('../report/probe-report.js'),
        import('../report/progress-line.js'),
        import('../report/style.js'),
      ]);
      const options = {
        url: flags.url,
        workers: flags.workers,
        sched: flags.sched,
        ...loadOptionsFrom(flags),
        expectWorkers: flags.expectWorkers,
        expectHosts: flags.expectHosts,
        retries: flags.retries,
        insecure: flags.insecure,
        tls: flags.tls,
        chaosMs: flags.chaos,
        reload: flags.reload,
        app,
        paths: flags.path,
      };
      validateProbeOptions(options);
      const report = reportFile(flags.report, 'probe');
      // The output mode is chosen here, once: JSON on stdout, or the table; the live view only on a TTY.
      const c = makeChalk(flags.json ? false : flags.color);
      const live = createLiveView(process.stderr, flags.progress && !flags.json, makeChalk(flags.color, process.env));
      let result;
      try {
        // Interrupted under load: the report of what was sent (exit 130). Before the load began: one line.
        result = await interruptible((signal) => runProbe({ ...options, signal }, live), 'interrupted: the cluster was stopped', () => live.done());
      } finally {
        live.done();
      }
      if (!result) return;
      process.stdout.write(`${flags.json ? renderProbeJson(result) : renderProbeReport(result, c)}\n`);
      if (report) report.write((await import('../report/html/probe-html.js')).renderProbeHtml(result, reportContext()));
      process.exitCode = probeExitCode(result);
    });
}

/** `probe --ws` / `--sse`: long-lived connections instead of requests. */
async function probeLongLived(command: Command, flags: ProbeFlags): Promise<void> {
  if (flags.ws && flags.sse) throw new UsageError('--ws and --sse: give one (run the probe twice to see both)', 'probe');
  const kind = flags.ws ? 'ws' : 'sse';
  for (const other of ['route', 'n', 'path', 'requests', 'keepAlive', 'h2', 'app', 'retries', 'expectHosts', 'report']) {
    if (given(command, other)) throw new UsageError(`--${other.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} does not apply to --${kind}, which holds --connections long-lived connections for --duration`, 'probe');
  }
  if (flags.sse && given(command, 'messages')) throw new UsageError('--messages is for --ws: an event stream only receives', 'probe');
  if (flags.url && given(command, 'workers')) throw new UsageError('--workers sizes the in-process cluster; with --url the server decides (check its count with --expect-workers)', 'probe');
  if (flags.sourceAddresses !== undefined && flags.url && !/^127\./.test(flags.url.hostname)) throw new UsageError(`--source-addresses binds 127.0.0.2 and up: the target must be on loopback (127.x), not ${flags.url.hostname}`, 'probe');
  if (flags.url && (flags.chaos !== undefined || flags.reload)) throw new UsageError('--chaos and --reload act on the in-process cluster: leave out --url', 'probe');
  const [{ runLongLivedProbe, longLivedExitCode }, { renderLongLivedReport, renderLongLivedJson }, { makeChalk }] = await Promise.all([
    import('../probe/long-lived-run.js'),
    import('../report/long-lived-report.js'),
    import('../report/style.js'),
  ]);
  const c = makeChalk(flags.json ? false : flags.color);
  const result = await interruptible(
    (signal) =>
      runLongLivedProbe({
        kind,
        url: flags.url,
        workers: flags.workers,
        sched: flags.sched,
        connections: flags.connections ?? 200,
        concurrency: flags.concurrency,
        messages: flags.messages,
        holdMs: flags.duration ?? 2_000,
        timeoutMs: flags.timeout,
        insecure: flags.insecure,
        tls: flags.tls,
        expectWorkers: flags.expectWorkers,
        chaosMs: flags.chaos,
        reload: flags.reload,
        sourceAddresses: flags.sourceAddresses,
        signal,
      }),
    'interrupted: the cluster was stopped',
    () => undefined,
  );
  if (!result) return;
  process.stdout.write(`${flags.json ? renderLongLivedJson(result) : renderLongLivedReport(result, c)}\n`);
  process.exitCode = longLivedExitCode(result);
}
