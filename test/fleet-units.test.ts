/** The fleet's pure parts: host grouping and two-level fairness, the nginx configuration, upstream parsing. */
import { describe, expect, it } from 'vitest';
import { instanceAddress } from '../src/fleet/fleet.js';
import { http2Directive, parseUpstreams, renderNginxConfig } from '../src/fleet/nginx-config.js';
import { groupByHost, hostsSeen } from '../src/statistics/hosts.js';

describe('groupByHost', () => {
  const workers = [
    { pid: 11, host: 'host-1', primaryPid: 10, requests: 300 },
    { pid: 12, host: 'host-1', primaryPid: 10, requests: 100 },
    { pid: 21, host: 'host-2', primaryPid: 20, requests: 200 },
    { pid: 22, host: 'host-2', primaryPid: 20, requests: 0 },
    { pid: 31, host: 'host-10', primaryPid: 30, requests: 200 },
    { pid: null, host: null, primaryPid: null, requests: 200 },
  ];

  it('sums requests and shares per host, lists its primaries and counts its workers; names sort naturally, unknown last', () => {
    const { hosts } = groupByHost(workers);
    expect(hosts).toEqual([
      { host: 'host-1', requests: 400, share: 0.4, primaryPids: [10], workers: 2 },
      { host: 'host-2', requests: 200, share: 0.2, primaryPids: [20], workers: 2 },
      { host: 'host-10', requests: 200, share: 0.2, primaryPids: [30], workers: 1 },
      { host: null, requests: 200, share: 0.2, primaryPids: [], workers: 0 },
    ]);
    expect(hostsSeen(hosts)).toBe(3);
  });

  it("Jain's index and max/min across named hosts: (800)² / (3 · 240000) = 0.8889, 400/200 = 2", () => {
    expect(groupByHost(workers).fairness).toEqual({ jain: 0.8889, maxMinRatio: 2 });
  });

  it('a host expected but silent counts as 0: (800)² / (4 · 240000) = 0.6667 and max/min null', () => {
    expect(groupByHost(workers, 4).fairness).toEqual({ jain: 0.6667, maxMinRatio: null });
  });

  it('two instances under one name: one host with both primaries', () => {
    const { hosts } = groupByHost([
      { pid: 1, host: 'vm', primaryPid: 5, requests: 3 },
      { pid: 2, host: 'vm', primaryPid: 4, requests: 1 },
    ]);
    expect(hosts).toEqual([{ host: 'vm', requests: 4, share: 1, primaryPids: [4, 5], workers: 2 }]);
  });
});

describe('renderNginxConfig', () => {
  const base = { upstreams: ['127.0.0.11:4001', '127.0.0.12:4002'], listen: '127.0.0.1:8080', balance: 'round-robin' as const, keepalive: 0, location: '/' };

  it('round robin, no upstream keepalive: HTTP/1.0 and a new connection per request, as nginx does by default', () => {
    const conf = renderNginxConfig(base);
    expect(conf).toContain('  upstream cluster_demo {\n    server 127.0.0.11:4001;\n    server 127.0.0.12:4002;\n  }');
    expect(conf).toContain('    listen 127.0.0.1:8080;\n    location / {\n      proxy_pass http://cluster_demo/;\n');
    expect(conf).not.toMatch(/^\s+keepalive \d|proxy_http_version|least_conn|ip_hash|_temp_path|^pid /m);
    expect(conf).toContain('worker_processes auto;');
  });

  it('least-conn / ip-hash, keepalive, a location prefix, TLS and a local run', () => {
    const conf = renderNginxConfig({ ...base, balance: 'least-conn', keepalive: 8, location: '/app/', tls: { certificate: '/t/c.pem', key: '/t/k.pem' }, localDir: '/tmp/x' });
    expect(conf).toContain('  upstream cluster_demo {\n    least_conn;\n    server 127.0.0.11:4001;');
    // Idle upstream connections are dropped before Node's 5 s keepAliveTimeout closes them, and a GET that
    // meets a closed one goes to the next instance: no 502 from that race.
    expect(conf).toContain('    keepalive 8;\n    keepalive_timeout 4s;\n  }');
    expect(conf).toContain('      proxy_next_upstream error timeout;');
    expect(conf).toContain('      proxy_http_version 1.1;\n      proxy_set_header Connection "";');
    expect(conf).toContain('    listen 127.0.0.1:8080 ssl;\n    ssl_certificate /t/c.pem;\n    ssl_certificate_key /t/k.pem;\n    location /app/ {');
    expect(conf).toContain('daemon off;\nworker_processes 1;\npid /tmp/x/nginx.pid;\nerror_log stderr warn;');
    expect(conf).toContain('  proxy_temp_path /tmp/x/proxy_temp;');
    expect(renderNginxConfig({ ...base, balance: 'ip-hash' })).toContain('    ip_hash;\n');
  });
});

describe('parseUpstreams and instance addresses', () => {
  it('takes host:port lists and names the wrong item', () => {
    expect(parseUpstreams('10.0.0.1:3000, web-2.internal:3000,[::1]:80')).toEqual(['10.0.0.1:3000', 'web-2.internal:3000', '[::1]:80']);
    expect(parseUpstreams('10.0.0.1')).toEqual({ error: 'Must be host:port, comma-separated (got "10.0.0.1")' });
    expect(parseUpstreams('a:70000')).toEqual({ error: 'Must be host:port, comma-separated (got "a:70000")' });
    expect(parseUpstreams(' , ')).toEqual({ error: 'Must be one or more host:port, comma-separated' });
  });

  it('one loopback address per instance on Linux, 127.0.0.1 elsewhere', () => {
    expect([0, 1, 2].map((i) => instanceAddress(i, 'linux'))).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
    expect(instanceAddress(1, 'darwin')).toBe('127.0.0.1');
  });
});

describe('nginx config for HTTP/2 in front', () => {
  const base = { upstreams: ['127.0.0.11:4001'], listen: '127.0.0.1:8443', balance: 'round-robin' as const, keepalive: 8, location: '/', tls: { certificate: '/d/cert.pem', key: '/d/key.pem', http2: true } };

  it('nginx before 1.25.1 takes http2 as a listen parameter; later ones the http2 directive', () => {
    expect(renderNginxConfig({ ...base, version: '1.22.1' })).toContain('    listen 127.0.0.1:8443 ssl http2;\n    ssl_certificate /d/cert.pem;');
    const modern = renderNginxConfig({ ...base, version: '1.27.3' });
    expect(modern).toContain('    listen 127.0.0.1:8443 ssl;\n    http2 on;\n    ssl_certificate /d/cert.pem;');
    // Upstream stays HTTP/1.1 keep-alive.
    expect(modern).toContain('      proxy_http_version 1.1;\n      proxy_set_header Connection "";');
    expect([http2Directive('1.25.0'), http2Directive('1.25.1'), http2Directive('2.0.0'), http2Directive(undefined)]).toEqual([false, true, true, true]);
  });
});
