import { Command, InvalidArgumentError } from 'commander';
import os from 'node:os';
import { LIMITS, parseBaseUrl, parseChoice, parsePositiveInt, parseSched, parseWorkers, wholeNumber } from './options.js';
import type { BrowserObserver, BrowserProtocol } from '../browser/experiment.js';
import type { SchedulingPolicy } from '../cluster/primary.js';
import { reportContext, reportFile } from './report-file.js';
import { addAppOptions, addOutputOptions, appFrom, durationOption, given, interruptible, newCommand, type AppFlags, type OutputFlags } from './common.js';

type ScenarioChoice = 'all' | 'same-url' | 'distinct-urls' | 'fetch-burst';

interface BrowserFlags extends OutputFlags, AppFlags {
  url?: URL;
  workers: number;
  sched: SchedulingPolicy;
  scenario: ScenarioChoice;
  tabs: number;
  fetches: number;
  n?: number;
  browserPath?: string;
  headed: boolean;
  timeout: number;
  h2: boolean;
  protocols?: BrowserProtocol[];
  insecure: boolean;
}

/** `--protocols h1,h2`: HTTP/1.1 (plain http) and/or HTTP/2 (https), in that order. */
function parseProtocols(value: string): BrowserProtocol[] {
  const names: Record<string, BrowserProtocol> = { h1: 'http/1.1', 'http/1.1': 'http/1.1', h2: 'h2' };
  const list = value.split(',').map((v) => v.trim().toLowerCase()).filter(Boolean);
  const protocols = list.map((v) => names[v]);
  if (list.length === 0 || protocols.some((p) => p === undefined)) throw new InvalidArgumentError(`Must be h1, h2 or h1,h2 (got ${JSON.stringify(value)})`);
  return [...new Set(protocols as BrowserProtocol[])];
}

export function makeBrowserCommand(): Command {
  const command = newCommand('browser')
    .description('open the server in a real Chromium, as you did, and show which connection and worker each tab met')
    .option('-u, --url <base>', 'a server that is already running (ours, or the seed\'s Express app) instead of the in-process cluster', parseBaseUrl)
    .option('-w, --workers <n|max>', 'in-process cluster size', parseWorkers, os.availableParallelism())
    .option('--sched <policy>', 'scheduling policy of the in-process cluster: rr, none, reuseport (Node 22.12+), least-conn or ip-hash', parseSched, 'rr')
    .option('--scenario <name>', 'all, same-url, distinct-urls, fetch-burst or websocket (all: websocket only for the in-process demo server, which serves /ws)', parseChoice(['all', 'same-url', 'distinct-urls', 'fetch-burst', 'websocket'] as const), 'all')
    .option('--tabs <n>', 'tabs opened at once in same-url, distinct-urls and websocket', wholeNumber(1, LIMITS.tabs), 4)
    .option('--fetches <n>', 'parallel fetch() calls in fetch-burst', wholeNumber(1, LIMITS.fetches), 12)
    .option('--n <n>', 'n for /api/:n (default: about 0.7 s of work, so that queueing shows)', parsePositiveInt)
    .option('--browser-path <file>', 'Chromium or Chrome to drive (default: CHROME_PATH, then chromium, chromium-browser, google-chrome-stable, google-chrome on PATH)')
    .option('--headed', 'show the browser window (needs a display)', false)
    .addOption(durationOption('--timeout <time>', 'per scenario', 60_000))
    .option('--h2', 'the in-process cluster serves HTTPS with HTTP/2 (Chromium trusts exactly its self-signed certificate)', false)
    .option('--protocols <list>', 'in-process: h1, h2 or h1,h2 (both: the scenarios once each, then compared)', parseProtocols)
    .option('--insecure', '--url https://…: accept a certificate that does not verify (self-signed)', false);
  return addOutputOptions(addAppOptions(command))
    .addHelpText(
      'after',
      `
Exit codes: 0 the scenarios ran · 1 no browser, it could not start, or a request failed · 2 usage error

Examples:
  $ cluster-demo browser                                  # same URL, distinct URLs, a fetch burst
  $ cluster-demo browser --scenario same-url --tabs 6
  $ cluster-demo browser --h2                             # HTTP/2: one connection, one worker
  $ cluster-demo browser --protocols h1,h2                # both, compared
  $ cluster-demo browser --url https://127.0.0.1:8443 --insecure
  $ cluster-demo browser --url http://localhost:3000      # your own app (PIDs from the body)
  $ cluster-demo browser --app ./app.js --path /           # your app, clustered here, on its own page
  $ CHROME_PATH=/opt/google/chrome/chrome cluster-demo browser --json > browser.json`,
    )
    .action(async (appArgs: string[], flags: BrowserFlags, command: Command) => {
      const [{ runBrowserExperiment, DEFAULT_BROWSER_N }, { SCENARIO_NAMES }, { renderBrowserReport, renderBrowserJson }, { createStatusLine }, { makeChalk }, { UsageError }] = await Promise.all([
        import('../browser/experiment.js'),
        import('../browser/analyze.js'),
        import('../report/browser-report.js'),
        import('../report/progress-line.js'),
        import('../report/style.js'),
        import('../core/errors.js'),
      ]);
      const app = appFrom(command, flags, appArgs);
      if (app && flags.url) throw new UsageError('--app boots your app here; --url opens a server that already runs: give one', 'browser');
      if (app && (flags.h2 || flags.protocols)) throw new UsageError('--h2 and --protocols choose what our demo server speaks; your app (--app) speaks what it speaks (HTTP/1.1 here)', 'browser');
      if (app && flags.n !== undefined) throw new UsageError("--n is for the demo server's /api/:n; with --app, name the page with --path", 'browser');
      if ((flags.path?.length ?? 0) > 1) throw new UsageError('--path: the tabs all open one path; give it once', 'browser');
      if (flags.url && given(command, 'workers')) throw new UsageError('--workers sizes the in-process cluster; with --url the server decides', 'browser');
      if (flags.url && flags.sched !== 'rr') throw new UsageError('--sched applies to the in-process cluster; it cannot be used with --url', 'browser');
      if (flags.url && (flags.h2 || flags.protocols)) throw new UsageError('--h2 and --protocols choose what the in-process cluster serves; with --url the browser negotiates (https:// URLs get HTTP/2 if the server offers it)', 'browser');
      if (flags.h2 && flags.protocols) throw new UsageError('--h2 is --protocols h2: give one of them', 'browser');
      if (flags.insecure && flags.url?.protocol !== 'https:') throw new UsageError('--insecure is for --url https://… targets', 'browser');
      if (flags.headed && process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
        throw new UsageError('--headed needs a display (DISPLAY and WAYLAND_DISPLAY are not set); run without --headed', 'browser');
      }
      // The output mode is chosen here, once: JSON on stdout, or the report; the status line only on a TTY.
      const report = reportFile(flags.report, 'browser');
      const c = makeChalk(flags.json ? false : flags.color);
      const status = createStatusLine(process.stderr, flags.progress && !flags.json, makeChalk(flags.color, process.env));
      const experiment = {
        url: flags.url,
        workers: flags.workers,
        sched: flags.sched,
        // A user's app or another server may serve no /ws: its WebSocket scenario is asked for by name.
        scenarios: flags.scenario === 'all' ? SCENARIO_NAMES.filter((name) => name !== 'websocket' || (!flags.url && !app)) : [flags.scenario],
        tabs: flags.tabs,
        fetches: flags.fetches,
        n: flags.n ?? DEFAULT_BROWSER_N,
        browserPath: flags.browserPath,
        headed: flags.headed,
        timeoutMs: flags.timeout,
        protocols: flags.protocols ?? (flags.h2 ? (['h2'] as BrowserProtocol[]) : undefined),
        insecure: flags.insecure,
        app,
        path: flags.path?.[0] ?? (app ? '/' : undefined),
      };
      const observer: BrowserObserver = {
        onStart: (info) => status.update(`${info.browser} → ${info.target} (${info.protocol})`),
        onScenarioStart: (name, n) => status.update(`${name}: ${n} ${name === 'fetch-burst' ? 'fetches' : 'tabs'} at once…`),
      };
      let result;
      try {
        result = await interruptible((signal) => runBrowserExperiment({ ...experiment, signal }, observer), 'interrupted: the browser and the cluster were stopped', () => status.done());
      } finally {
        status.done();
      }
      if (!result) return;
      process.stdout.write(`${flags.json ? renderBrowserJson(result) : renderBrowserReport(result, c)}\n`);
      if (report) report.write((await import('../report/html/browser-html.js')).renderBrowserHtml(result, reportContext()));
      process.exitCode = result.allOk ? 0 : 1;
    });
}
