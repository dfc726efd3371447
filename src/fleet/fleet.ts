/**
 * `cluster-demo fleet`: horizontal scaling past one machine, in one command. Starts several cluster instances
 * (each `cluster-demo serve`: its own primary and workers, on its own loopback address and name), puts a real
 * nginx in front of them, probes through it with the probe's engine, and stops everything it started, on
 * every path. Returns data; never prints.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExpectedError } from '../core/errors.js';
import { runBrowserExperiment, type BrowserOptions, type BrowserResult } from '../browser/experiment.js';
import { runProbe, type ProbeObserver, type ProbeOptions, type ProbeResult } from '../probe/run.js';
import { statsOverHttp } from '../probe/server-counts.js';
import { findFreePort, type SchedulingPolicy } from '../cluster/primary.js';
import { spawnServe, type SpawnedServer } from '../cluster/spawn.js';
import { selfSignedCertificate, type TlsMaterial } from '../cluster/tls/certificate.js';
import { renderNginxConfig, type Balance } from './nginx-config.js';
import { renderStreamConfig } from './stream-config.js';
import { balancerStory, type BalancerStory } from './story.js';
import { findBrowser, findNginx } from '../external/find-program.js';
import { findStreamModule } from '../external/nginx-stream.js';
import { loadPlaywright } from '../browser/driver.js';
import { nginxVersion, startNginx, waitUntilAnswering, type RunningNginx } from './nginx.js';

export type FleetProbeOptions = Pick<ProbeOptions, 'concurrency' | 'requests' | 'durationMs' | 'route' | 'n' | 'timeoutMs' | 'keepAlive' | 'connections' | 'retries'>;

/**
 * l7: nginx's http proxy, a request balancer (nginx http, Envoy, HAProxy mode http): it reads each request and
 * picks an instance for it. l4: nginx's stream proxy, a connection balancer (kube-proxy, cloud network load
 * balancers, HAProxy mode tcp): it picks an instance per client connection and passes the bytes through.
 */
export type BalancerLayer = 'l4' | 'l7';
export const BALANCER_LAYERS: readonly BalancerLayer[] = ['l4', 'l7'];

export interface FleetOptions {
  hosts: number;
  /** The balancer in front (default l7). */
  layer?: BalancerLayer;
  /** Every instance's serve --max-connection-age (ms): kept connections end gracefully after it. */
  maxConnectionAgeMs?: number;
  workers: number;
  sched: SchedulingPolicy;
  balance: Balance;
  /** nginx's upstream keepalive; 0 = a new connection to an instance per request. */
  lbKeepalive: number;
  nginxPath?: string;
  probe: FleetProbeOptions;
  /** nginx speaks TLS and HTTP/2 to the clients (a self-signed certificate, in the temp dir while it runs). */
  h2?: boolean;
  /** Also drive the browser scenarios through nginx (the same document as `browser --json`, under `browser`). */
  browser?: Pick<BrowserOptions, 'scenarios' | 'tabs' | 'fetches' | 'n' | 'browserPath' | 'headed' | 'timeoutMs'>;
  signal?: AbortSignal;
}

export interface FleetHost {
  name: string;
  address: string;
  port: number;
  primaryPid: number;
  workerPids: number[];
}

export interface FleetInfo {
  hosts: FleetHost[];
  /**
   * layer: l7 (nginx http: requests) or l4 (nginx stream: connections, passed through). protocol: what the
   * clients speak through it; l7 speaks HTTP/1.x to the instances, l4 passes the clients' bytes (TLS and HTTP/2
   * included) through to them. keepalive: l7's upstream keepalive (0 under l4, which has no requests to reuse a
   * connection for).
   */
  lb: { kind: 'nginx'; layer: BalancerLayer; version: string; port: number; balance: Balance; keepalive: number; protocol: 'http/1.1' | 'h2' };
  /** The instances' --max-connection-age in ms; null without it. */
  maxConnectionAgeMs: number | null;
}

export type FleetResult = ProbeResult & { fleet: FleetInfo; browser: BrowserResult | null; story: BalancerStory };

/** `fleet --lb l4,l7 --json`: the same load through each balancer, one after the other. */
export interface FleetComparison {
  kind: 'fleet-comparison';
  balancers: FleetResult[];
}

/** What `fleet --json` prints: one balancer's result, or (with --lb l4,l7) each balancer's. */
export type FleetDocument = FleetResult | FleetComparison;

export interface FleetObserver extends ProbeObserver {
  onFleetReady?(fleet: FleetInfo): void;
}

export class FleetInterrupted extends Error {
  override name = 'FleetInterrupted';
}

/**
 * Linux routes all of 127.0.0.0/8 to loopback, so each instance gets an address of its own, as separate
 * machines would; elsewhere only 127.0.0.1 is sure to work, and the instances differ by port.
 */
export function instanceAddress(index: number, platform: NodeJS.Platform = process.platform): string {
  return platform === 'linux' ? `127.0.0.${11 + index}` : '127.0.0.1';
}

/** l4 with --h2: the instances terminate TLS themselves, all with the fleet's one certificate (files in its temp dir). */
type InstanceTls = { certificate: string; key: string };

async function startInstance(index: number, options: FleetOptions, tls: InstanceTls | undefined): Promise<{ server: SpawnedServer; host: FleetHost }> {
  const name = `host-${index + 1}`;
  const address = instanceAddress(index);
  const args = ['--host', address, '--port', '0', '--workers', String(options.workers), '--sched', options.sched, '--name', name];
  if (options.maxConnectionAgeMs !== undefined) args.push('--max-connection-age', `${options.maxConnectionAgeMs}ms`);
  if (tls) args.push('--h2', '--cert', tls.certificate, '--key', tls.key);
  let server: SpawnedServer;
  try {
    server = await spawnServe(args, { readyTimeoutMs: 30_000, signal: options.signal });
  } catch (err) {
    // spawnServe's error is the instance's own start-failed line (from its JSON log), or how it ended.
    throw new ExpectedError(`instance ${name} on ${address} did not start: ${(err as Error).message}`, { cause: err });
  }
  const workerPids = [...server.readyPids].sort((a, b) => a - b);
  return { server, host: { name, address, port: Number(new URL(server.url).port), primaryPid: server.pid, workerPids } };
}

/** With h2: the fleet's certificate and key (0600) in its temp dir; nginx (l7) or every instance (l4) serves it. */
async function writeCertificate(dir: string, options: FleetOptions): Promise<{ tls?: TlsMaterial; files?: InstanceTls }> {
  if (!options.h2) return {};
  const tls = await selfSignedCertificate();
  const files = { certificate: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  writeFileSync(files.certificate, tls.cert, { mode: 0o600 });
  writeFileSync(files.key, tls.key, { mode: 0o600 });
  return { tls, files };
}

/** The generated nginx.conf in the fleet's temp dir: an http proxy (l7) or a stream proxy (l4). */
function writeBalancerConfig(dir: string, hosts: FleetHost[], port: number, version: string, options: FleetOptions, files: InstanceTls | undefined, streamModule: string | undefined): string {
  const confFile = path.join(dir, 'nginx.conf');
  const upstreams = hosts.map((h) => `${h.address}:${h.port}`);
  const listen = `127.0.0.1:${port}`;
  const text =
    options.layer === 'l4'
      ? renderStreamConfig({ upstreams, listen, balance: options.balance, loadModule: streamModule, localDir: dir })
      : renderNginxConfig({ upstreams, listen, balance: options.balance, keepalive: options.lbKeepalive, location: '/', localDir: dir, tls: files && { ...files, http2: true }, version });
  writeFileSync(confFile, text);
  return confFile;
}

/** The probe's load through nginx: every host and worker expected, each instance's counts read from it directly. */
async function probeThrough(url: URL, ca: string | undefined, instances: Array<{ server: SpawnedServer }>, options: FleetOptions, observer: FleetObserver): Promise<ProbeResult> {
  return runProbe(
    {
      ...options.probe,
      url,
      ca,
      h2: options.h2,
      workers: options.hosts * options.workers,
      sched: 'rr',
      expectWorkers: options.hosts * options.workers,
      expectHosts: options.hosts,
      reload: false,
      signal: options.signal,
      // Through nginx a read would reach one instance; each is read directly (under l4 with h2 over TLS, on an
      // address the certificate does not name: the fleet's own instance on loopback, so not verified).
      statsSources: instances.map((i) => statsOverHttp(new URL(i.server.url), { insecure: true })),
    },
    observer,
  );
}

/** --browser: the browser scenarios through nginx, Chromium trusting exactly the fleet's certificate. */
function browseThrough(url: URL, tls: TlsMaterial | undefined, options: FleetOptions): Promise<BrowserResult> {
  return runBrowserExperiment({ ...options.browser!, url, ca: tls?.cert, workers: options.hosts * options.workers, sched: 'rr', signal: options.signal });
}

export async function runFleet(options: FleetOptions, observer: FleetObserver = {}): Promise<FleetResult> {
  const layer = options.layer ?? 'l7';
  const nginxPath = findNginx(options.nginxPath);
  const streamModule = layer === 'l4' ? findStreamModule(nginxPath) : undefined;
  // --browser: what it needs is checked before any instance starts.
  if (options.browser) {
    findBrowser(options.browser.browserPath);
    await loadPlaywright();
  }
  const version = await nginxVersion(nginxPath);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-fleet-'));
  const starting: Array<Promise<{ server: SpawnedServer; host: FleetHost }>> = [];
  let nginx: RunningNginx | undefined;
  const checkInterrupted = () => {
    if (options.signal?.aborted) throw new FleetInterrupted();
  };
  try {
    mkdirSync(path.join(dir, 'logs'));
    const { tls, files } = await writeCertificate(dir, options);
    const instanceTls = layer === 'l4' ? files : undefined;
    for (let i = 0; i < options.hosts; i++) starting.push(startInstance(i, options, instanceTls));
    const instances = await Promise.all(starting);
    checkInterrupted();
    const hosts = instances.map((i) => i.host);
    const port = await findFreePort('127.0.0.1');
    const confFile = writeBalancerConfig(dir, hosts, port, version, { ...options, layer, lbKeepalive: layer === 'l4' ? 0 : options.lbKeepalive }, files, streamModule?.kind === 'dynamic' ? streamModule.file : undefined);
    nginx = startNginx(nginxPath, dir, confFile);
    const url = new URL(`${options.h2 ? 'https' : 'http'}://127.0.0.1:${port}/`);
    // From here on a Ctrl-C ends in a report (the probe sees the aborted signal and says it was interrupted).
    await waitUntilAnswering(`${url.origin}/pid`, nginx, 10_000);
    const fleet: FleetInfo = {
      hosts,
      lb: { kind: 'nginx', layer, version, port, balance: options.balance, keepalive: layer === 'l4' ? 0 : options.lbKeepalive, protocol: options.h2 ? 'h2' : 'http/1.1' },
      maxConnectionAgeMs: options.maxConnectionAgeMs ?? null,
    };
    observer.onFleetReady?.(fleet);
    const ipHashNote = options.balance === 'ip-hash' && options.hosts > 1 ? 'ip-hash sends every request from one client address to the same host: from this one machine, expect one host' : undefined;
    if (ipHashNote) observer.onNotice?.(ipHashNote);
    const result = await probeThrough(url, tls?.cert, instances, options, observer);
    if (ipHashNote) result.notices.unshift(ipHashNote);
    const browser = options.browser && !options.signal?.aborted ? await browseThrough(url, tls, options) : null;
    return { ...result, fleet, browser, story: balancerStory(result, fleet, browser) };
  } finally {
    // nginx first (it holds connections to the instances), then every instance that started, then the files
    // (the certificate's key among them).
    await nginx?.stop();
    const settled = await Promise.allSettled(starting);
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.server.stop() : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--lb l4,l7`: the same fleet and load through each balancer, one after the other (each with instances of its
 * own: l4 with --h2 needs them to speak TLS). What every run needs is checked before the first starts.
 */
export async function runFleets(options: FleetOptions, layers: readonly BalancerLayer[], observer: FleetObserver = {}): Promise<FleetResult[]> {
  const nginxPath = findNginx(options.nginxPath);
  if (layers.includes('l4')) findStreamModule(nginxPath);
  const results: FleetResult[] = [];
  for (const layer of layers) {
    if (options.signal?.aborted) break;
    results.push(await runFleet({ ...options, layer }, observer));
  }
  return results;
}
