/** The fleet's pure parts: host grouping and two-level fairness, the nginx configurations (http and stream), upstream and --lb parsing, the stream module's detection, the balancer's verdict. */
import { describe, expect, it } from 'vitest';
import { instanceAddress } from '../src/fleet/fleet.js';
import { http2Directive, parseUpstreams, renderNginxConfig } from '../src/fleet/nginx-config.js';
import { renderStreamConfig } from '../src/fleet/stream-config.js';
import { storyVerdict } from '../src/fleet/story.js';
import { parseLayers } from '../src/commands/fleet.js';
import { streamModuleFrom } from '../src/external/nginx-stream.js';
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

describe('--lb l4: the stream module, its configuration, the story', () => {
  const debian = 'nginx version: nginx/1.22.1\nbuilt with OpenSSL 3.0.17\nconfigure arguments: --with-cc-opt=-g --prefix=/usr/share/nginx --modules-path=/usr/lib/nginx/modules --with-stream=dynamic --with-stream_ssl_module';

  it('finds the module as nginx -V describes its build: built in, a dynamic module present or absent, or none', () => {
    expect(streamModuleFrom(debian, (f) => f === '/usr/lib/nginx/modules/ngx_stream_module.so')).toEqual({ kind: 'dynamic', file: '/usr/lib/nginx/modules/ngx_stream_module.so' });
    expect(streamModuleFrom(debian, () => false)).toEqual({ kind: 'missing', looked: '/usr/lib/nginx/modules/ngx_stream_module.so' });
    expect(streamModuleFrom('configure arguments: --prefix=/etc/nginx --with-stream --with-http_v2_module', () => false)).toEqual({ kind: 'built-in' });
    // Without --modules-path, modules live under the prefix.
    expect(streamModuleFrom('configure arguments: --prefix=/opt/nginx --with-stream=dynamic', (f) => f === '/opt/nginx/modules/ngx_stream_module.so')).toEqual({ kind: 'dynamic', file: '/opt/nginx/modules/ngx_stream_module.so' });
    expect(streamModuleFrom('configure arguments: --prefix=/etc/nginx --with-stream_ssl_module', () => true)).toEqual({ kind: 'missing', looked: null });
  });

  it('renders a stream proxy: the module loaded by path, one upstream, the method, no http block', () => {
    const text = renderStreamConfig({ upstreams: ['127.0.0.11:4001', '127.0.0.12:4002'], listen: '127.0.0.1:8080', balance: 'ip-hash', loadModule: '/usr/lib/nginx/modules/ngx_stream_module.so', localDir: '/tmp/x' });
    expect(text.split('\n')[1]).toBe('load_module /usr/lib/nginx/modules/ngx_stream_module.so;');
    expect(text).toContain('stream {\n  upstream cluster_demo {\n    hash $remote_addr consistent;\n    server 127.0.0.11:4001;\n    server 127.0.0.12:4002;\n  }');
    expect(text).toContain('    listen 127.0.0.1:8080;');
    expect(text).toContain('    proxy_pass cluster_demo;');
    expect(text).not.toContain('http {');
    expect(renderStreamConfig({ upstreams: ['10.0.0.1:3000'], listen: '80', balance: 'least-conn', moduleHint: true })).toContain('# load_module modules/ngx_stream_module.so;\nworker_processes auto;');
  });

  it('parses --lb: l4, l7, both in the order given; anything else is the user\'s mistake', () => {
    expect(parseLayers('l4')).toEqual(['l4']);
    expect(parseLayers('L4,l7')).toEqual(['l4', 'l7']);
    expect(parseLayers('l7,l4')).toEqual(['l7', 'l4']);
    for (const bad of ['l3', 'l4,l4', '', 'l4,']) expect(() => parseLayers(bad)).toThrow('Must be l4, l7, or both comma-separated (l4,l7)');
  });

  const base = { balances: 'connections' as const, hostsExpected: 3, workersExpected: 6, browser: [] };
  const route = (hostsSeen: number, workersSeen: number) => ({ path: '/pid', hostsSeen, workersSeen, failed: 0 });

  it('the verdict follows the figures: pinned, spread by a maximum age, reopened, or a new connection per request', () => {
    expect(storyVerdict({ ...base, layer: 'l4', clientConnections: 1, routes: [route(1, 1)] }, null)).toBe(
      '1 kept client connection through the L4 balancer (nginx stream) met 1 of 3 hosts and 1 of 6 workers: it picks a host per connection, and every request on a connection stays on the host, and the worker, that accepted it.',
    );
    expect(storyVerdict({ ...base, layer: 'l4', clientConnections: 1, routes: [route(3, 6)] }, 300)).toBe(
      '1 kept client connection through the L4 balancer (nginx stream), yet 3 of 3 hosts and 6 of 6 workers: the instances ended connections older than 300 ms (--max-connection-age), the client reconnected, and each new connection was balanced again.',
    );
    expect(storyVerdict({ ...base, layer: 'l4', clientConnections: 2, routes: [route(3, 3)] }, null)).toContain('yet 3 of 3 hosts and 3 of 6 workers: more hosts than connections, so connections were reopened during the run.');
    expect(storyVerdict({ ...base, layer: 'l4', clientConnections: null, routes: [route(3, 6)] }, null)).toBe('A new connection per request through the L4 balancer (nginx stream) met 3 of 3 hosts and 6 of 6 workers: every new connection is balanced again.');
    expect(storyVerdict({ ...base, layer: 'l7', balances: 'requests', clientConnections: 1, routes: [route(3, 6)] }, null)).toBe('1 kept client connection through the L7 balancer (nginx http) met 3 of 3 hosts and 6 of 6 workers: it balances requests, not connections.');
    // The busiest route speaks for the run.
    expect(storyVerdict({ ...base, layer: 'l7', balances: 'requests', clientConnections: null, routes: [route(2, 2), route(3, 5)] }, null)).toBe('A new connection per request through the L7 balancer (nginx http) met 3 of 3 hosts and 5 of 6 workers.');
  });
});
