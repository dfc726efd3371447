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
import { runProbe, type ProbeObserver, type ProbeOptions, type ProbeResult } from '../probe/run.js';
import { statsOverHttp } from '../probe/server-counts.js';
import { findFreePort, type SchedulingPolicy } from '../server/primary.js';
import { spawnServe, type SpawnedServer } from '../server/spawn.js';
import { renderNginxConfig, type Balance } from './nginx-config.js';
import { findNginx, nginxVersion, startNginx, waitUntilAnswering, type RunningNginx } from './nginx.js';

export type FleetProbeOptions = Pick<ProbeOptions, 'concurrency' | 'requests' | 'durationMs' | 'route' | 'n' | 'timeoutMs' | 'keepAlive' | 'connections' | 'retries'>;

export interface FleetOptions {
  hosts: number;
  workers: number;
  sched: SchedulingPolicy;
  balance: Balance;
  /** nginx's upstream keepalive; 0 = a new connection to an instance per request. */
  lbKeepalive: number;
  nginxPath?: string;
  probe: FleetProbeOptions;
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
  lb: { kind: 'nginx'; version: string; port: number; balance: Balance; keepalive: number };
}

export type FleetResult = ProbeResult & { fleet: FleetInfo };

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

async function startInstance(index: number, options: FleetOptions): Promise<{ server: SpawnedServer; host: FleetHost }> {
  const name = `host-${index + 1}`;
  const address = instanceAddress(index);
  let server: SpawnedServer;
  try {
    server = await spawnServe(['--host', address, '--port', '0', '--workers', String(options.workers), '--sched', options.sched, '--name', name], { readyTimeoutMs: 30_000 });
  } catch (err) {
    // spawnServe's error is the instance's own start-failed line (from its JSON log), or how it ended.
    throw new ExpectedError(`instance ${name} on ${address} did not start: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const workerPids = [...server.readyPids].sort((a, b) => a - b);
  return { server, host: { name, address, port: Number(new URL(server.url).port), primaryPid: server.pid, workerPids } };
}

export async function runFleet(options: FleetOptions, observer: FleetObserver = {}): Promise<FleetResult> {
  const nginxPath = findNginx(options.nginxPath);
  const version = await nginxVersion(nginxPath);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-fleet-'));
  const starting: Array<Promise<{ server: SpawnedServer; host: FleetHost }>> = [];
  let nginx: RunningNginx | undefined;
  const checkInterrupted = () => {
    if (options.signal?.aborted) throw new FleetInterrupted();
  };
  try {
    mkdirSync(path.join(dir, 'logs'));
    for (let i = 0; i < options.hosts; i++) starting.push(startInstance(i, options));
    const instances = await Promise.all(starting);
    checkInterrupted();
    const hosts = instances.map((i) => i.host);
    const port = await findFreePort('127.0.0.1');
    const confFile = path.join(dir, 'nginx.conf');
    writeFileSync(
      confFile,
      renderNginxConfig({ upstreams: hosts.map((h) => `${h.address}:${h.port}`), listen: `127.0.0.1:${port}`, balance: options.balance, keepalive: options.lbKeepalive, location: '/', localDir: dir }),
    );
    nginx = startNginx(nginxPath, dir, confFile);
    // From here on a Ctrl-C ends in a report (the probe sees the aborted signal and says it was interrupted).
    await waitUntilAnswering(`http://127.0.0.1:${port}/pid`, nginx, 10_000);
    const fleet: FleetInfo = { hosts, lb: { kind: 'nginx', version, port, balance: options.balance, keepalive: options.lbKeepalive } };
    observer.onFleetReady?.(fleet);
    const ipHashNote = options.balance === 'ip-hash' && options.hosts > 1 ? 'ip-hash sends every request from one client address to the same host: from this one machine, expect one host' : undefined;
    if (ipHashNote) observer.onNotice?.(ipHashNote);
    const result = await runProbe(
      {
        ...options.probe,
        url: new URL(`http://127.0.0.1:${port}/`),
        workers: options.hosts * options.workers,
        sched: 'rr',
        expectWorkers: options.hosts * options.workers,
        expectHosts: options.hosts,
        reload: false,
        signal: options.signal,
        // Each instance's own counts, read from it directly (through nginx a read would reach one of them).
        statsSources: instances.map((i) => statsOverHttp(new URL(i.server.url))),
      },
      observer,
    );
    if (ipHashNote) result.notices.unshift(ipHashNote);
    return { ...result, fleet };
  } finally {
    // nginx first (it holds connections to the instances), then every instance that started, then the files.
    await nginx?.stop();
    const settled = await Promise.allSettled(starting);
    await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.server.stop() : undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}
