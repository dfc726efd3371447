/**
 * `fleet --lb l4`: a real nginx with its stream module passing TCP (and TLS) through to the hosts, against the
 * request balancer (l7). One kept connection through L4 meets one host and one worker; through L7, every host;
 * a maximum connection age on the instances brings the spread back through L4. Skipped without nginx's stream
 * module (Debian: libnginx-mod-stream), which CI installs.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetComparison, FleetResult } from '../src/fleet/fleet.js';
import { findStreamModule } from '../src/external/nginx-stream.js';
import { chromium, nginxStream } from './external.js';
import { fleetTempDirs, isAlive, lines, processesMatching, request, runCli, startCli, waitFor } from './helpers.js';
import { expectSchema } from './schema.js';

function everyPid(doc: FleetResult): number[] {
  return doc.fleet.hosts.flatMap((h) => [h.primaryPid, ...h.workerPids]);
}

describe('fleet --lb without the stream module', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-fake-nginx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('one line naming the package, exit 1, before any instance starts', async () => {
    // An nginx whose build has the stream module as a dynamic module that is not installed (Debian without
    // libnginx-mod-stream).
    const fake = path.join(dir, 'nginx');
    writeFileSync(fake, `#!/bin/sh\necho "nginx version: nginx/1.22.1" >&2\necho "configure arguments: --prefix=/usr/share/nginx --modules-path=${dir}/modules --with-stream=dynamic" >&2\n`);
    chmodSync(fake, 0o755);
    expect(() => findStreamModule(fake)).toThrow(/has no stream module/);
    const result = await runCli(['fleet', '--lb', 'l4,l7', '--nginx-path', fake, '--no-progress']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([`error: ${fake} has no stream module (no ${dir}/modules/ngx_stream_module.so), which --lb l4 needs for TCP pass-through; install it (Debian/Ubuntu: apt-get install libnginx-mod-stream) or pass --nginx-path <file>`]);
    expect(result.stdout).toBe('');
    expect(processesMatching('--name host-')).toEqual([]);
  });

  it('usage mistakes: an unknown layer, --lb-keepalive with l4 alone (exit 2)', async () => {
    const unknown = await runCli(['fleet', '--lb', 'l3']);
    expect(unknown.code).toBe(2);
    expect(lines(unknown.stderr)[0]).toContain('Must be l4, l7, or both comma-separated (l4,l7)');
    const keepalive = await runCli(['fleet', '--lb', 'l4', '--lb-keepalive', '8']);
    expect(keepalive.code).toBe(2);
    expect(lines(keepalive.stderr)[0]).toBe("error: --lb-keepalive is nginx's http upstream keepalive (--lb l7): a connection balancer has no requests to reuse a connection for");
  });
});

describe.skipIf(!nginxStream.path)('fleet --lb l4: a connection balancer in front of the hosts (real nginx stream)', () => {
  it('--lb l4,l7 --keep-alive --connections 1: through L4 one host and one worker, through L7 every host; side by side; nothing left', async () => {
    const before = fleetTempDirs();
    const result = await runCli(['fleet', '--lb', 'l4,l7', '--hosts', '3', '--workers', '2', '--keep-alive', '--connections', '1', '--route', 'pid', '--requests', '300', '--json'], { timeoutMs: 90_000 });
    const doc = JSON.parse(result.stdout) as FleetComparison;
    expectSchema('fleet', doc);
    expect(doc.kind).toBe('fleet-comparison');
    const [l4, l7] = doc.balancers;
    expect(l4!.fleet.lb).toMatchObject({ layer: 'l4', keepalive: 0 });
    expect(l4!.routes[0]).toMatchObject({ ok: 300, failed: 0, hostsSeen: 1, workersSeen: 1 });
    expect(l4!.story).toMatchObject({ layer: 'l4', balances: 'connections', clientConnections: 1, hostsExpected: 3, workersExpected: 6 });
    expect(l4!.story.verdict).toContain('met 1 of 3 hosts and 1 of 6 workers: it picks a host per connection');
    expect(l7!.fleet.lb).toMatchObject({ layer: 'l7' });
    expect(l7!.routes[0]).toMatchObject({ ok: 300, failed: 0, hostsSeen: 3 });
    expect(l7!.story.verdict).toContain('met 3 of 3 hosts');
    // A worker went without traffic through L4: the exit code says so.
    expect(result.code).toBe(1);
    expect([...everyPid(l4!), ...everyPid(l7!)].filter(isAlive)).toEqual([]);
    expect(processesMatching('cluster-demo-fleet-')).toEqual([]);
    expect(fleetTempDirs()).toEqual(before);
  });

  it('--max-connection-age 300ms through L4: one kept connection, and HTTP/2, meet every worker again, 0 failed', async () => {
    for (const load of [['--keep-alive', '--connections', '1'], ['--h2']]) {
      const result = await runCli(['fleet', '--lb', 'l4', '--hosts', '2', '--workers', '2', '--max-connection-age', '300ms', ...load, '--route', 'pid', '--duration', '2s', '--json'], { timeoutMs: 60_000 });
      const doc = JSON.parse(result.stdout) as FleetResult;
      expect(doc.fleet).toMatchObject({ maxConnectionAgeMs: 300, lb: { layer: 'l4', protocol: load[0] === '--h2' ? 'h2' : 'http/1.1' } });
      expect(doc.routes[0]).toMatchObject({ failed: 0, hostsSeen: 2, workersSeen: 4 });
      expect(doc.story.verdict).toContain('the instances ended connections older than 300 ms (--max-connection-age), the client reconnected');
      expect(result.code).toBe(0);
    }
  });

  it.skipIf(!chromium.path)('--lb l4,l7 --h2 --browser: TLS passed through, the probe and the browser on one connection meet one host through L4 and every host through L7; no key left', async () => {
    const before = fleetTempDirs();
    const result = await runCli(['fleet', '--lb', 'l4,l7', '--h2', '--browser', '--hosts', '2', '--workers', '2', '--route', 'pid', '--requests', '200', '--json'], { env: { CHROME_PATH: chromium.path }, timeoutMs: 120_000 });
    const doc = JSON.parse(result.stdout) as FleetComparison;
    expectSchema('fleet', doc);
    const [l4, l7] = doc.balancers;
    expect(l4!.fleet.lb).toMatchObject({ layer: 'l4', protocol: 'h2', keepalive: 0 });
    expect(l4!).toMatchObject({ protocol: 'h2', connections: 1, allOk: true });
    expect(l4!.routes[0]).toMatchObject({ protocol: 'h2', hostsSeen: 1, workersSeen: 1 });
    const l4Distinct = l4!.browser!.scenarios.find((s) => s.name === 'distinct-urls')!;
    expect(l4Distinct).toMatchObject({ protocol: 'h2', failed: 0 });
    expect(l4Distinct.connections).toHaveLength(1);
    expect(l4Distinct.pids).toHaveLength(1);
    expect(l4!.story.browser.find((b) => b.scenario === 'distinct-urls')).toEqual({ scenario: 'distinct-urls', protocol: 'h2', connections: 1, hostsSeen: 1, pidsSeen: 1 });
    // Through the request balancer (nginx terminates TLS and HTTP/2, keeps its own upstream connections).
    expect(l7!.fleet.lb).toMatchObject({ layer: 'l7', protocol: 'h2', keepalive: 8 });
    expect(l7!).toMatchObject({ protocol: 'h2', connections: 1, allHostsServed: true, allOk: true });
    const l7Distinct = l7!.browser!.scenarios.find((s) => s.name === 'distinct-urls')!;
    expect(l7Distinct.connections).toHaveLength(1);
    expect(l7Distinct.pids.length).toBeGreaterThanOrEqual(2);
    expect(l7Distinct.verdict).toContain('One browser connection, yet');
    expect(l7!.story.browser.find((b) => b.scenario === 'distinct-urls')!.hostsSeen).toBe(2);
    expect(fleetTempDirs()).toEqual(before);
    expect(processesMatching('cluster-demo-fleet-')).toEqual([]);
  });

  it('Ctrl-C during the L4 run of --lb l4,l7: a report of what was sent, nginx and every instance stopped, L7 never started (exit 130)', async () => {
    const cli = startCli(['fleet', '--lb', 'l4,l7', '--hosts', '2', '--workers', '2', '--route', 'pid', '--duration', '60s', '--no-progress']);
    try {
      const conf = await waitFor('nginx (stream) to run under the CLI', () => /-c (\S+nginx\.conf)/.exec(processesMatching('cluster-demo-fleet-')[0] ?? '')?.[1], 30_000, 100);
      const text = readFileSync(conf, 'utf8');
      expect(text).toContain('stream {');
      const port = /listen 127\.0\.0\.1:(\d+);/.exec(text)![1]!;
      await waitFor('an answer through nginx', async () => ((await request(`http://127.0.0.1:${port}`, '/pid').catch(() => undefined))?.status === 200 ? true : undefined), 10_000, 50);
      cli.kill('SIGINT');
      const result = await cli.done;
      expect(result.code).toBe(130);
      expect(result.stdout).toContain('interrupted: the figures cover the requests sent before Ctrl-C');
      expect(result.stdout).toContain('(L4, stream proxy)');
      expect(result.stdout).not.toContain('(L7, http proxy) on');
      expect(processesMatching('cluster-demo-fleet-')).toEqual([]);
      expect(processesMatching('--name host-')).toEqual([]);
    } finally {
      cli.kill('SIGKILL');
    }
  });

  it('--print-config --lb l4: a stream configuration for real machines that nginx accepts', async () => {
    const printed = await runCli(['fleet', '--print-config', '--lb', 'l4', '--upstream', '10.0.0.1:3000,10.0.0.2:3000', '--balance', 'least-conn']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('stream {\n  upstream cluster_demo {\n    least_conn;\n    server 10.0.0.1:3000;\n    server 10.0.0.2:3000;\n  }');
    const check = mkdtempSync(path.join(os.tmpdir(), 'cluster-demo-conf-'));
    try {
      const module = findStreamModule(nginxStream.path!);
      // This machine's nginx: the commented load_module line, with its module's path, where it is a module.
      const conf = printed.stdout
        .replace('# load_module modules/ngx_stream_module.so;', module.kind === 'dynamic' ? `load_module ${module.file};` : '')
        .replace('worker_processes auto;', `worker_processes auto;\npid ${check}/nginx.pid;`);
      writeFileSync(path.join(check, 'nginx.conf'), conf);
      mkdirSync(path.join(check, 'logs'));
      execFileSync(nginxStream.path!, ['-t', '-q', '-p', check, '-c', path.join(check, 'nginx.conf'), '-e', 'stderr']);
    } finally {
      rmSync(check, { recursive: true, force: true });
    }
    const both = await runCli(['fleet', '--print-config', '--lb', 'l4,l7', '--upstream', '10.0.0.1:3000']);
    expect(both.code).toBe(2);
    expect(lines(both.stderr)[0]).toBe('error: --print-config prints one configuration: pass --lb l4 or --lb l7');
  });
});
