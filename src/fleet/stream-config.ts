/**
 * The nginx configuration of `fleet --lb l4`: nginx's `stream` module passing TCP connections through to the
 * instances, untouched (TLS too: the instances terminate it). A connection balancer, as kube-proxy, a cloud
 * network load balancer or HAProxy in `mode tcp` are: it picks an instance per connection, and every byte of
 * that connection, every request on it, goes there. Pure, like renderNginxConfig.
 */
import type { Balance } from './nginx-config.js';

export interface StreamConfigOptions {
  upstreams: string[];
  listen: string;
  balance: Balance;
  /** Absolute path of ngx_stream_module.so where this nginx builds it as a module; undefined when built in. */
  loadModule?: string;
  /** For a configuration printed for real machines: the load_module line, commented, with how to tell. */
  moduleHint?: boolean;
  /** A local, unprivileged run: pid file under this directory, errors to stderr. */
  localDir?: string;
}

/** stream has no ip_hash; a hash of the client address is the same choice (consistent: stable as hosts change). */
const STREAM_METHOD_LINE: Record<Balance, string | null> = { 'round-robin': null, 'least-conn': 'least_conn;', 'ip-hash': 'hash $remote_addr consistent;' };

export function renderStreamConfig(o: StreamConfigOptions): string {
  const lines: string[] = [`# cluster-demo fleet --lb l4: ${o.upstreams.length} cluster instance${o.upstreams.length === 1 ? '' : 's'} behind nginx's stream module (${o.balance}, TCP pass-through)`];
  if (o.loadModule) lines.push(`load_module ${o.loadModule};`);
  else if (o.moduleHint) {
    lines.push('# Where nginx builds stream as a module (nginx -V shows --with-stream=dynamic; Debian and Ubuntu: the package');
    lines.push('# libnginx-mod-stream), this file, read on its own with -c, must load it:');
    lines.push('# load_module modules/ngx_stream_module.so;');
  }
  if (o.localDir) lines.push('daemon off;', 'worker_processes 1;', `pid ${o.localDir}/nginx.pid;`, 'error_log stderr warn;');
  else lines.push('worker_processes auto;');
  lines.push('events { worker_connections 4096; }', '', 'stream {', '  upstream cluster_demo {');
  const method = STREAM_METHOD_LINE[o.balance];
  if (method) lines.push(`    ${method}`);
  for (const upstream of o.upstreams) lines.push(`    server ${upstream};`);
  lines.push('  }', '', '  server {', `    listen ${o.listen};`);
  lines.push('    # One instance per client connection, chosen when it opens; its bytes (TLS included) pass through untouched.');
  lines.push('    proxy_pass cluster_demo;', '    proxy_connect_timeout 5s;', '  }', '}', '');
  return lines.join('\n');
}
