/**
 * Beyond one machine, for real: `cluster-demo fleet` with a real nginx (Debian's, found on PATH or in
 * /usr/sbin), and `probe --url` through an nginx location with a path prefix, over http and over https with a
 * self-signed certificate made here (selfsigned, as serve --tls makes its own). Skipped, with the reason said once, without nginx; in CI a
 * missing nginx fails the run (test/global-setup.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetResult } from '../src/fleet/fleet.js';
import { renderNginxConfig } from '../src/fleet/nginx-config.js';
import { startNginx, waitUntilAnswering, type RunningNginx } from '../src/fleet/nginx.js';
import type { ProbeResult } from '../src/probe/run.js';
import { findFreePort, startCluster, type RunningCluster } from '../src/cluster/primary.js';
import { selfSignedCertificate } from '../src/cluster/tls/certificate.js';
import { nginx as nginxProgram } from './external.js';
import { fleetTempDirs, isAlive, lines, processesMatching, request, runCli, startCli, waitFor } from './helpers.js';
import { expectSchema } from './schema.js';

describe.skipIf(!nginxProgram.path)('fleet: cluster hosts behind a real nginx', () => {
  it('--hosts 3 --workers 2: 3 hosts and 6 workers served, 0 failed, then no nginx, no instance and no temp dir left', async () => {
    const before = fleetTempDirs();
    const result = await runCli(['fleet', '--hosts', '3', '--workers', '2', '--route', 'both', '--requests', '240', '--n', '2000000', '--json'], { timeoutMs: 90_000 });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as FleetResult;
    expectSchema('fleet', doc);
    expect(doc).toMatchObject({ hostsExpected: 3, allHostsServed: true, workersExpected: 6, allWorkersServed: true, allOk: true });
    expect(doc.fleet.lb).toMatchObject({ kind: 'nginx', layer: 'l7', balance: 'round-robin', keepalive: 0 });
    expect(doc.story).toMatchObject({ layer: 'l7', balances: 'requests', clientConnections: null });
    expect(doc.fleet.lb.version).toMatch(/^\d+\.\d+/);
    expect(doc.fleet.hosts.map((h) => [h.name, h.address, h.workerPids.length])).toEqual([
      ['host-1', '127.0.0.11', 2],
      ['host-2', '127.0.0.12', 2],
      ['host-3', '127.0.0.13', 2],
    ]);
    for (const route of doc.routes) {
      expect(route.failed).toBe(0);
      expect(route.hosts.map((h) => h.host)).toEqual(['host-1', 'host-2', 'host-3']);
      expect(route.hosts.every((h) => h.workers === 2 && h.primaryPids.length === 1)).toBe(true);
      expect(route.workersSeen).toBe(6);
      expect(route.fairness.hosts.jain).toBeGreaterThan(0.9);
    }
    // Everything it started is gone: every primary and worker, nginx (its command line names the temp dir).
    const pids = doc.fleet.hosts.flatMap((h) => [h.primaryPid, ...h.workerPids]);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(processesMatching('cluster-demo-fleet-')).toEqual([]);
    expect(fleetTempDirs()).toEqual(before);
  });

  it('--balance least-conn --lb-keepalive 4 runs end to end; the report says what reuse did to the workers', async () => {
    const result = await runCli(['fleet', '--hosts', '2', '--workers', '2', '--balance', 'least-conn', '--lb-keepalive', '4', '--concurrency', '4', '--route', 'pid', '--requests', '300', '--json'], { timeoutMs: 90_000 });
    const doc = JSON.parse(result.stdout) as FleetResult;
    expect(doc.fleet.lb).toMatchObject({ balance: 'least-conn', keepalive: 4 });
    expect(doc.allOk).toBe(true);
    expect(doc.allHostsServed).toBe(true);
    // Reused upstream connections may leave a worker idle: the exit code follows what was measured.
    expect(result.code).toBe(doc.allWorkersServed ? 0 : 1);
  });

  it('Ctrl-C: the probe stops, the report covers what was sent, nginx and every instance are stopped (exit 130)', async () => {
    const cli = startCli(['fleet', '--hosts', '2', '--workers', '2', '--route', 'pid', '--duration', '60s', '--no-progress']);
    try {
      // Under way once nginx runs as its child and answers through to the instances.
      const conf = await waitFor('nginx to run under the CLI', () => /-c (\S+nginx\.conf)/.exec(processesMatching('cluster-demo-fleet-')[0] ?? '')?.[1], 30_000, 100);
      const port = /listen 127\.0\.0\.1:(\d+);/.exec(readFileSync(conf, 'utf8'))![1]!;
      await waitFor('an answer through nginx', async () => ((await request(`http://127.0.0.1:${port}`, '/pid').catch(() => undefined))?.status === 200 ? true : undefined), 10_000, 50);
      cli.kill('SIGINT');
      const result = await cli.done;
      expect(result.code).toBe(130);
      expect(result.stdout).toContain('interrupted: the figures cover the requests sent before Ctrl-C');
      expect(processesMatching('cluster-demo-fleet-')).toEqual([]);
      expect(processesMatching('--name host-')).toEqual([]);
    } finally {
      cli.kill('SIGKILL');
    }
  });

  it('--print-config --upstream prints a configuration for real machines; mistakes are one line, exit 2', async () => {
    const printed = await runCli(['fleet', '--print-config', '--upstream', '10.0.0.1:3000,10.0.0.2:3000', '--balance', 'least-conn', '--lb-keepalive', '16']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('    least_conn;\n    server 10.0.0.1:3000;\n    server 10.0.0.2:3000;');
    expect(printed.stdout).toContain('    listen 80;');
    const nginxCheck = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-conf-'));
    try {
      // nginx itself accepts it (-t: test the configuration).
      writeFileSync(path.join(nginxCheck, 'nginx.conf'), printed.stdout.replace('worker_processes auto;', `worker_processes auto;\npid ${nginxCheck}/nginx.pid;`));
      mkdirSync(path.join(nginxCheck, 'logs'));
      execFileSync(nginxProgram.path!, ['-t', '-q', '-p', nginxCheck, '-c', path.join(nginxCheck, 'nginx.conf'), '-e', 'stderr']);
    } finally {
      rmSync(nginxCheck, { recursive: true, force: true });
    }
    const missing = await runCli(['fleet', '--print-config']);
    expect(missing.code).toBe(2);
    expect(lines(missing.stderr)[0]).toBe('error: --print-config needs --upstream host:port,… (your instances)');
    const bad = await runCli(['fleet', '--print-config', '--upstream', '10.0.0.1']);
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)[0]).toContain('Must be host:port, comma-separated (got "10.0.0.1")');
  });
});

describe.skipIf(!nginxProgram.path)('probe --url through an nginx location /app/, over http and https', () => {
  let cluster: RunningCluster;
  let dir: string;
  const running: RunningNginx[] = [];
  let httpBase: string;
  let httpsBase: string;

  beforeAll(async () => {
    cluster = await startCluster({ port: 0, host: '127.0.0.1', workers: 2, name: 'only-host' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-lbtest-'));
    mkdirSync(path.join(dir, 'logs'));
    const certificate = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    const material = await selfSignedCertificate(1);
    writeFileSync(certificate, material.cert);
    writeFileSync(key, material.key, { mode: 0o600 });
    const upstream = new URL(cluster.url).host;
    for (const tls of [false, true]) {
      const port = await findFreePort('127.0.0.1');
      const conf = path.join(dir, `${tls ? 'https' : 'http'}.conf`);
      const subdir = path.join(dir, tls ? 'https' : 'http');
      mkdirSync(subdir);
      writeFileSync(conf, renderNginxConfig({ upstreams: [upstream], listen: `127.0.0.1:${port}`, balance: 'round-robin', keepalive: 0, location: '/app/', tls: tls ? { certificate, key } : undefined, localDir: subdir }));
      const nginx = startNginx(nginxProgram.path!, dir, conf);
      running.push(nginx);
      const base = `${tls ? 'https' : 'http'}://127.0.0.1:${port}/app`;
      await waitUntilAnswering(`${base}/pid`, nginx, 10_000);
      if (tls) httpsBase = base;
      else httpBase = base;
    }
  });

  afterAll(async () => {
    await Promise.all(running.splice(0).map((n) => n.stop()));
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the path prefix: /app/pid and /app/api/:n, every worker found on both routes (and /pid alone is not there)', async () => {
    expect((await request(httpBase.replace('/app', ''), '/pid')).status).not.toBe(200);
    const result = await runCli(['probe', '--url', httpBase, '--requests', '200', '--n', '1000000', '--expect-workers', '2', '--expect-hosts', '1', '--json'], { timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as ProbeResult;
    expect(doc.target).toBe(httpBase);
    expect(doc.routes.map((r) => r.path)).toEqual(['/app/pid', '/app/api/1000000']);
    for (const route of doc.routes) {
      expect(route).toMatchObject({ failed: 0, workersSeen: 2, hostsSeen: 1 });
      expect(route.hosts).toEqual([expect.objectContaining({ host: 'only-host', workers: 2 })]);
    }
  });

  it('--expect-hosts one more than exists → exit 1 with the host verdict', async () => {
    const result = await runCli(['probe', '--url', httpBase, '--route', 'pid', '--requests', '100', '--expect-hosts', '2', '--no-progress']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✗ only 1 of 2 hosts handled traffic');
  });

  it('https with a self-signed certificate: --insecure works (a TLS handshake per request); without it, one line and exit 1', async () => {
    const ok = await runCli(['probe', '--url', httpsBase, '--insecure', '--route', 'pid', '--requests', '200', '--expect-workers', '2', '--json'], { timeoutMs: 60_000 });
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout) as ProbeResult;
    expect(doc.routes[0]).toMatchObject({ failed: 0, workersSeen: 2, transport: 'tls' });
    const keepAlive = await runCli(['probe', '--url', httpsBase, '--insecure', '--keep-alive', '--connections', '4', '--route', 'pid', '--requests', '100', '--json'], { timeoutMs: 60_000 });
    expect(JSON.parse(keepAlive.stdout).routes[0]).toMatchObject({ ok: 100, failed: 0, transport: 'undici' });
    const refused = await runCli(['probe', '--url', httpsBase, '--route', 'pid', '--requests', '10']);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([`error: cannot connect to ${new URL(httpsBase).origin}: self-signed certificate (pass --insecure to accept it)`]);
  });
});
