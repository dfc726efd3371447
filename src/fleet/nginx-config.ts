/**
 * The nginx configuration of `cluster-demo fleet`: one upstream of cluster instances, one server that proxies
 * to it. A pure function of the options, so the file `--print-config` gives for real machines is the one the
 * tests run (minus the local paths).
 */

export type Balance = 'round-robin' | 'least-conn' | 'ip-hash';
export const BALANCE_METHODS: readonly Balance[] = ['round-robin', 'least-conn', 'ip-hash'];

export interface NginxConfigOptions {
  /** `address:port` of each instance. */
  upstreams: string[];
  /** What nginx listens on, e.g. `127.0.0.1:8080` or `80`. */
  listen: string;
  balance: Balance;
  /** nginx's upstream `keepalive`: idle connections kept per nginx worker; 0 = a new connection per request. */
  keepalive: number;
  /** The location the instances are served under, e.g. `/` or `/app/` (proxied with the prefix removed). */
  location: string;
  /** TLS on the listening side: certificate and key files; `http2` offers HTTP/2 to clients too. */
  tls?: { certificate: string; key: string; http2?: boolean };
  /** nginx's version: 1.25.1 moved HTTP/2 from a `listen` parameter to the `http2 on;` directive. */
  version?: string;
  /** A local, unprivileged run: pid file and temp paths under this directory, errors to stderr. */
  localDir?: string;
}

/** Below Node's default keepAliveTimeout (5 s), which the instances keep. */
export const UPSTREAM_KEEPALIVE_TIMEOUT_S = 4;

const METHOD_LINE: Record<Balance, string | null> = { 'round-robin': null, 'least-conn': 'least_conn;', 'ip-hash': 'ip_hash;' };

export function renderNginxConfig(o: NginxConfigOptions): string {
  const lines: string[] = [`# cluster-demo fleet: ${o.upstreams.length} cluster instance${o.upstreams.length === 1 ? '' : 's'} behind nginx (${o.balance}, upstream keepalive ${o.keepalive})`];
  if (o.localDir) {
    lines.push('daemon off;', 'worker_processes 1;', `pid ${o.localDir}/nginx.pid;`, 'error_log stderr warn;');
  } else {
    lines.push('worker_processes auto;');
  }
  lines.push('events { worker_connections 4096; }', '', 'http {', '  access_log off;');
  if (o.localDir) {
    for (const kind of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) lines.push(`  ${kind}_temp_path ${o.localDir}/${kind}_temp;`);
  }
  lines.push('', '  upstream cluster_demo {');
  const method = METHOD_LINE[o.balance];
  if (method) lines.push(`    ${method}`);
  for (const upstream of o.upstreams) lines.push(`    server ${upstream};`);
  if (o.keepalive > 0) {
    lines.push(`    # Reuse up to ${o.keepalive} idle connections to the instances: each instance's cluster then sees few`);
    lines.push('    # connections, and it balances connections, not requests.');
    lines.push(`    keepalive ${o.keepalive};`);
    // Node closes a keep-alive connection idle for 5 s (its keepAliveTimeout): nginx must give up on it first, or
    // it may send a request on a connection Node is closing at that moment (a 502 for the client).
    lines.push(`    keepalive_timeout ${UPSTREAM_KEEPALIVE_TIMEOUT_S}s;`);
  }
  lines.push('  }', '', '  server {');
  const http2 = o.tls?.http2 === true;
  const directive = http2 && http2Directive(o.version);
  lines.push(o.tls ? `    listen ${o.listen} ssl${http2 && !directive ? ' http2' : ''};` : `    listen ${o.listen};`);
  if (directive) lines.push('    http2 on;');
  if (o.tls) lines.push(`    ssl_certificate ${o.tls.certificate};`, `    ssl_certificate_key ${o.tls.key};`);
  if (http2) lines.push('    # HTTP/2 to the clients; HTTP/1.1 to the instances (proxy_pass speaks HTTP/1.x upstream).');
  // proxy_pass with a URI part ("/") replaces the matched location prefix: /app/pid reaches the instance as /pid.
  lines.push(`    location ${o.location} {`, '      proxy_pass http://cluster_demo/;');
  if (o.keepalive > 0) {
    lines.push('      proxy_http_version 1.1;', '      proxy_set_header Connection "";');
    // Should a reused connection still be closed under it, a GET (idempotent) goes to the next instance; nginx
    // never sends a POST twice unless told to (non_idempotent).
    lines.push('      proxy_next_upstream error timeout;');
  } else {
    lines.push('      # HTTP/1.0 and a new connection to an instance per request (nginx\'s default).');
  }
  lines.push('      proxy_set_header Host $host;', '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;', '    }', '  }', '}', '');
  return lines.join('\n');
}

/** Whether this nginx takes `http2 on;` (1.25.1 and later) rather than `listen … http2`; unknown: the new way. */
export function http2Directive(version: string | undefined): boolean {
  const [major = 0, minor = 0, patch = 0] = (version ?? '').split('.').map((part) => Number.parseInt(part, 10) || 0);
  if (!version || major === 0 && minor === 0) return true;
  return major > 1 || minor > 25 || (minor === 25 && patch >= 1);
}

/** `--upstream host:port,host:port` for --print-config; a mistake is the caller's one line (exit 2). */
export function parseUpstreams(value: string): string[] | { error: string } {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) return { error: 'Must be one or more host:port, comma-separated' };
  for (const item of items) {
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) return { error: `Must be host:port, comma-separated (got "${item}")` };
  }
  return items;
}
