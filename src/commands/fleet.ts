import { Command, InvalidArgumentError } from 'commander';
import { BALANCE_METHODS, parseUpstreams } from '../fleet/nginx-config.js';
import { LIMITS, parseChoice, parseSched, wholeNumber } from './options.js';
import { BALANCER_LAYERS, type BalancerLayer, type FleetOptions } from '../fleet/fleet.js';
import { reportContext, reportFile } from './report-file.js';
import { addLoadOptions, addOutputOptions, durationOption, interruptible, loadOptionsFrom, newCommand, type LoadFlags, type OutputFlags } from './common.js';

interface FleetFlags extends LoadFlags, OutputFlags, Pick<FleetOptions, 'hosts' | 'workers' | 'sched' | 'balance' | 'nginxPath'> {
  lbKeepalive?: number;
  lb: BalancerLayer[];
  maxConnectionAge?: number;
  browser: boolean;
  browserPath?: string;
  printConfig: boolean;
  upstream?: string[];
  retries: number;
}

/** `l4`, `l7`, or both in the order given (`l4,l7`). */
export function parseLayers(value: string): BalancerLayer[] {
  const items = value.split(',').map((s) => s.trim().toLowerCase());
  if (items.length === 0 || items.some((item) => !(BALANCER_LAYERS as readonly string[]).includes(item)) || new Set(items).size !== items.length) {
    throw new InvalidArgumentError('Must be l4, l7, or both comma-separated (l4,l7)');
  }
  return items as BalancerLayer[];
}

function upstreamList(value: string): string[] {
  const parsed = parseUpstreams(value);
  if ('error' in parsed) throw new InvalidArgumentError(parsed.error);
  return parsed;
}

export function makeFleetCommand(): Command {
  const command = newCommand('fleet')
    .description('several cluster hosts behind a real nginx, probed through it: host → worker')
    .option('--hosts <n>', 'cluster instances, each its own primary on its own loopback address', wholeNumber(1, LIMITS.hosts), 3)
    .option('-w, --workers <n>', 'workers per instance', wholeNumber(1, LIMITS.workers), 2)
    .option('--sched <policy>', 'scheduling policy of every instance: rr, none, reuseport (Node 22.12+), least-conn or ip-hash', parseSched, 'rr')
    .option('--lb <layer>', 'the balancer in front: l7 (nginx http: balances requests), l4 (nginx stream: balances connections, TCP passed through), or l4,l7 (both, one after the other, side by side)', parseLayers, ['l7'])
    .option('--balance <method>', `nginx's method: ${BALANCE_METHODS.join(', ')}`, parseChoice(BALANCE_METHODS), 'round-robin')
    .option('--lb-keepalive <n>', "nginx's upstream keepalive (idle connections reused to the instances; 0 = a new one per request; default 0, with --h2 8)", wholeNumber(0, LIMITS.lbKeepalive))
    .addOption(durationOption('--max-connection-age <time>', "every instance's serve --max-connection-age: kept connections end gracefully after this age and reconnect through the balancer, e.g. 300ms"))
    .option('--browser', 'after the probe, the browser scenarios through nginx (with --h2: one HTTP/2 connection from the browser)', false)
    .option('--browser-path <file>', 'with --browser: Chromium or Chrome to drive')
    .option('--nginx-path <file>', 'nginx to run (default: nginx on PATH, /usr/sbin, /usr/local/sbin)')
    .option('--print-config', 'print the nginx configuration for real machines (with --upstream) and exit', false)
    .option('--upstream <host:port,...>', 'with --print-config: the instances, e.g. 10.0.0.1:3000,10.0.0.2:3000', upstreamList)
    .option('--retries <n>', 'retry a request that failed on a connection error up to n times', wholeNumber(0, LIMITS.retries), 0);
  return addOutputOptions(addLoadOptions(command))
    .addHelpText(
      'after',
      `
Exit codes: 0 every host and worker served and nothing failed · 1 one did not, requests failed, or no nginx · 2 usage error

Examples:
  $ cluster-demo fleet                                   # 3 hosts × 2 workers behind nginx
  $ cluster-demo fleet --balance least-conn --lb-keepalive 8
  $ cluster-demo fleet --h2 --browser                    # HTTP/2 to nginx: one browser connection, many workers
  $ cluster-demo fleet --lb l4,l7 --keep-alive --connections 1   # a connection balancer against a request balancer
  $ cluster-demo fleet --lb l4 --h2 --max-connection-age 300ms   # GOAWAY: the kept connection spreads again
  $ cluster-demo fleet --print-config --upstream 10.0.0.1:3000,10.0.0.2:3000 > cluster-demo.conf`,
    )
    .action(async (flags: FleetFlags) => {
      const { UsageError } = await import('../core/errors.js');
      if (flags.upstream && !flags.printConfig) throw new UsageError('--upstream is for --print-config (the instances of a real deployment)', 'fleet');
      const l4Only = flags.lb.length === 1 && flags.lb[0] === 'l4';
      if (flags.lbKeepalive !== undefined && l4Only) throw new UsageError("--lb-keepalive is nginx's http upstream keepalive (--lb l7): a connection balancer has no requests to reuse a connection for", 'fleet');
      if (flags.printConfig) {
        if (!flags.upstream) throw new UsageError('--print-config needs --upstream host:port,… (your instances)', 'fleet');
        if (flags.lb.length > 1) throw new UsageError('--print-config prints one configuration: pass --lb l4 or --lb l7', 'fleet');
        const { renderNginxConfig } = await import('../fleet/nginx-config.js');
        const { renderStreamConfig } = await import('../fleet/stream-config.js');
        process.stdout.write(
          l4Only
            ? renderStreamConfig({ upstreams: flags.upstream, listen: '80', balance: flags.balance, moduleHint: true })
            : renderNginxConfig({ upstreams: flags.upstream, listen: '80', balance: flags.balance, keepalive: flags.lbKeepalive ?? 0, location: '/' }),
        );
        return;
      }
      if (flags.browserPath && !flags.browser) throw new UsageError('--browser-path is for --browser', 'fleet');
      const [{ runFleets }, { renderFleetReport, renderFleetComparison, renderFleetJson }, { createLiveView }, { makeChalk }, { probeExitCode, validateLoadShape }, { DEFAULT_BROWSER_N }, { SCENARIO_NAMES }] = await Promise.all([
        import('../fleet/fleet.js'),
        import('../report/fleet-report.js'),
        import('../report/progress-line.js'),
        import('../report/style.js'),
        import('../probe/run.js'),
        import('../browser/experiment.js'),
        import('../browser/analyze.js'),
      ]);
      const probe = { ...loadOptionsFrom(flags), retries: flags.retries };
      validateLoadShape(probe);
      const report = reportFile(flags.report, 'fleet');
      const c = makeChalk(flags.json ? false : flags.color);
      const live = createLiveView(process.stderr, flags.progress && !flags.json, makeChalk(flags.color, process.env));
      let results;
      try {
        // The children get the terminal's SIGINT too; runFleet stops them either way.
        // Behind an HTTP/2 front, nginx keeps HTTP/1.1 connections to the instances, as deployments do.
        const lbKeepalive = flags.lbKeepalive ?? (flags.h2 ? 8 : 0);
        // The browser's requests: about 0.25 s of work each, so that queueing shows without a long run.
        // The WebSocket scenario is left out: fleet's nginx (L7) does not pass upgrades on.
        const browser = flags.browser ? { scenarios: SCENARIO_NAMES.filter((name) => name !== 'websocket'), tabs: 4, fetches: 12, n: Math.round(DEFAULT_BROWSER_N / 3), browserPath: flags.browserPath, headed: false, timeoutMs: 60_000 } : undefined;
        const fleet: FleetOptions = { hosts: flags.hosts, workers: flags.workers, sched: flags.sched, balance: flags.balance, lbKeepalive, nginxPath: flags.nginxPath, probe, h2: flags.h2, browser, maxConnectionAgeMs: flags.maxConnectionAge };
        results = await interruptible((signal) => runFleets({ ...fleet, signal }, flags.lb, live), 'interrupted: nginx and every instance were stopped', () => live.done());
      } finally {
        live.done();
      }
      if (!results || results.length === 0) return;
      const single = results.length === 1 ? results[0]! : undefined;
      process.stdout.write(`${flags.json ? renderFleetJson(results) : single ? renderFleetReport(single, c) : renderFleetComparison(results, c)}\n`);
      if (report) {
        const html = await import('../report/html/fleet-html.js');
        report.write(single ? html.renderFleetHtml(single, reportContext()) : html.renderFleetComparisonHtml(results, reportContext()));
      }
      process.exitCode = Math.max(...results.map((result) => probeExitCode(result) || (result.browser && !result.browser.allOk ? 1 : 0)));
    });
}
