import { Command } from 'commander';
import os from 'node:os';
import { LIMITS, parseChoice, parseHost, parsePort, parsePositiveInt, parseSched, parseWorkers, seconds } from './options.js';
import type { SchedulingPolicy } from '../cluster/primary.js';
import { durationOption, newCommand } from './common.js';

interface ServeFlags {
  port: number;
  host: string;
  workers: number;
  sched: SchedulingPolicy;
  maxN: number;
  grace: number;
  headersTimeout?: number;
  maxConnectionAge?: number;
  name?: string;
  log: 'human' | 'json';
  stats?: boolean;
  live: boolean;
  color: boolean;
  tls: boolean;
  h2: boolean;
  cert?: string;
  key?: string;
  app?: string;
  cwd?: string;
  listenTimeout: number;
  statsPort?: number;
}

export function makeServeCommand(): Command {
  // --stats and --no-stats set one value, the last one winning: both given is a contradiction to name, not guess.
  const statsFlags = new Set<string>();
  return newCommand('serve')
    .on('option:stats', () => statsFlags.add('--stats'))
    .on('option:no-stats', () => statsFlags.add('--no-stats'))
    .description('run the clustered server: one worker per CPU, respawned when they die')
    .argument('[app-args...]', 'with --app: the app\'s own arguments, after --')
    .option('--app <entry>', 'run your own app (app.js, server.mjs, src/main.ts), unmodified, as every worker: it listens where it always does; identity headers and counts are added from outside (docs/your-app.md)')
    .option('--cwd <dir>', 'with --app: the directory the app runs in (default: this one)')
    .addOption(durationOption('--listen-timeout <time>', 'with --app: how long every worker may take to listen', 10_000))
    .option('-p, --port <port>', 'port to listen on (0 = any free port)', parsePort, 3000)
    .option('-H, --host <host>', 'address to bind; 0.0.0.0 exposes it to the network', parseHost, '127.0.0.1')
    .option('-w, --workers <n|max>', 'number of workers', parseWorkers, os.availableParallelism())
    .option('--sched <policy>', 'rr (the primary hands out connections in turn), none (workers share one socket), reuseport (a socket per worker, Node 22.12+), least-conn (the primary hands each to the worker with the fewest open) or ip-hash (by client address: sticky)', parseSched, 'rr')
    .option('--max-n <n>', 'largest n /api/:n computes; larger values are clamped', parsePositiveInt, 5_000_000_000)
    .option('--grace <seconds>', 'on shutdown, how long in-flight requests may run before workers are killed', seconds(LIMITS.graceSeconds), 10)
    .option('--name <label>', 'the name this instance reports in x-hostname (default: the machine\'s hostname)')
    .option('--headers-timeout <seconds>', "how long a client may take to send its request headers (Node's default: 60)", seconds(LIMITS.headersTimeoutSeconds, " (Node's request timeout)"))
    .addOption(durationOption('--max-connection-age <time>', 'end a keep-alive or HTTP/2 connection older than this gracefully (connection: close on its next response; GOAWAY), so long-lived clients reconnect and spread again, e.g. 30s'))
    .option('--tls', 'HTTPS (HTTP/1.1 over TLS)', false)
    .option('--h2', 'HTTPS offering HTTP/2 and HTTP/1.1 by ALPN (curl, browsers and old clients all work)', false)
    .option('--cert <file>', 'with --tls or --h2: your certificate, PEM (default: a self-signed one for localhost, 127.0.0.1 and ::1, made at start, in memory)')
    .option('--key <file>', 'with --cert: its private key, PEM')
    .option('--stats', 'answer /_cluster/stats, /_cluster/events, /metrics and /dashboard on any --host (default: on a loopback host only)')
    .option('--no-stats', 'no per-worker counts and no stats routes')
    .option('--stats-port <port>', 'answer the stats routes from the primary on a port of their own (0 = any free port; with --app the default is 0, printed at start)', parsePort)
    .option('--no-live', 'on a terminal, log lines only (no live table of the workers)')
    .option('--no-color', 'no colours')
    .option('--log <format>', 'human (the seed\'s lines) or json (one JSON object per line, for programs)', parseChoice(['human', 'json'] as const), 'human')
    .addHelpText(
      'after',
      `
Stats (on a loopback --host by default; --stats elsewhere, --no-stats never):
  /dashboard         live page: which worker served you, every worker's requests, try-it buttons
  /_cluster/stats    JSON: per-worker counts, state, restarts, lifecycle events (the primary's view)
  /_cluster/events   server-sent events: a snapshot every second, each lifecycle event as it happens
  /metrics           Prometheus text, right under cluster (the primary gathers every worker's counters)

Signals:
  SIGINT / SIGTERM   graceful stop: in-flight requests finish, then exit 0 (a second one forces)
  SIGHUP             rolling restart, one worker at a time, no dropped requests

Examples:
  $ cluster-demo serve
  $ cluster-demo serve --port 8080 --workers 4
  $ cluster-demo serve --host 0.0.0.0 --sched none
  $ cluster-demo serve --host 0.0.0.0 --name web-1     # one of several hosts behind a load balancer
  $ cluster-demo serve --log json | jq .type           # the lifecycle as JSON lines
  $ cluster-demo serve --app ./app.js                  # your app, clustered: who served what, from outside
  $ cluster-demo serve --app dist/server.js -- --port 8080   # the app's own arguments after --
  $ cluster-demo serve --h2                            # HTTPS with HTTP/2: one browser, one connection, one worker
  $ cluster-demo serve --max-connection-age 30s        # kept connections end gracefully and spread again
  $ curl -k --http2 https://127.0.0.1:3000/pid
  $ open http://127.0.0.1:3000/dashboard               # every worker's count, live, in your browser
  $ curl http://127.0.0.1:3000/metrics                 # the same for Prometheus (gathered by the primary)
  $ curl http://127.0.0.1:3000/pid`,
    )
    .action(async (appArgs: string[], opts: ServeFlags, command: Command) => {
      const [{ runServe }, { UsageError }, { loadCertificate, CertificateFileError }] = await Promise.all([import('../serve/run.js'), import('../core/errors.js'), import('../cluster/tls/certificate.js')]);
      if (statsFlags.size > 1) throw new UsageError('--stats and --no-stats contradict each other: give one', 'serve');
      if (opts.stats === false && opts.statsPort !== undefined) throw new UsageError('--stats-port and --no-stats contradict each other: give one', 'serve');
      if (opts.tls && opts.h2) throw new UsageError('choose --tls (HTTP/1.1) or --h2 (HTTP/2 and HTTP/1.1), not both', 'serve');
      if ((opts.cert === undefined) !== (opts.key === undefined)) throw new UsageError('--cert and --key go together (the certificate and its private key)', 'serve');
      if (opts.app === undefined) {
        if (appArgs.length > 0) throw new UsageError(`unexpected argument ${appArgs[0]}: arguments after -- are the app's, with --app`, 'serve');
        for (const flag of ['cwd', 'listenTimeout'] as const) {
          if (command.getOptionValueSource(flag) === 'cli') throw new UsageError(`--${flag === 'cwd' ? 'cwd' : 'listen-timeout'} is for --app`, 'serve');
        }
      } else {
        // The app picks its own address and protocol: these flags are the demo server's.
        for (const flag of ['port', 'tls', 'h2', 'cert', 'maxN', 'headersTimeout', 'maxConnectionAge'] as const) {
          if (command.getOptionValueSource(flag) === 'cli') throw new UsageError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is the demo server's; with --app the app chooses its address and protocol`, 'serve');
        }
        if (opts.sched === 'least-conn' || opts.sched === 'ip-hash') throw new UsageError(`--sched ${opts.sched} hands each connection to our own server; your app listens itself: use --sched rr, none or reuseport with --app`, 'serve');
      }
      const protocol = opts.h2 ? 'h2' : opts.tls ? 'https' : 'http';
      if (opts.cert && protocol === 'http') throw new UsageError('--cert and --key are for --tls or --h2', 'serve');
      let tls;
      try {
        tls = opts.cert && opts.key ? loadCertificate(opts.cert, opts.key) : undefined;
      } catch (err) {
        if (err instanceof CertificateFileError) throw new UsageError(`--${err.option}: ${err.message}`, 'serve');
        throw err;
      }
      process.exitCode = await runServe({
        protocol,
        tls,
        port: opts.port,
        host: opts.host,
        workers: opts.workers,
        sched: opts.sched,
        maxN: opts.maxN,
        graceSeconds: opts.grace,
        headersTimeoutSeconds: opts.headersTimeout,
        maxConnectionAgeMs: opts.maxConnectionAge,
        name: opts.name,
        log: opts.log,
        stats: opts.stats,
        live: opts.live,
        color: opts.color,
        app: opts.app === undefined ? undefined : { entry: opts.app, args: appArgs, cwd: opts.cwd },
        statsPort: opts.stats === false ? undefined : (opts.statsPort ?? (opts.app === undefined ? undefined : 0)),
        listenTimeoutMs: opts.listenTimeout,
      });
    });
}
