import net from 'node:net';
import tls from 'node:tls';
import { ExpectedError } from '../core/errors.js';
import { CERTIFICATE_CAUSES, describeCause } from './causes.js';
import { sniName } from './engine.js';

export interface ReachOptions {
  insecure?: boolean;
  /** Trust exactly this certificate (PEM). */
  ca?: string;
  /** ALPN protocols to offer over TLS, e.g. ['h2']. */
  alpn?: string[];
}

/**
 * One connection before the load (with https, a full TLS handshake), so "nothing is listening" or "the
 * certificate does not verify" is one clear line rather than N failures. Resolves with the ALPN protocol the
 * server chose (false: none, or plain http).
 */
export function checkReachable(url: URL, timeoutMs: number, options: ReachOptions = {}): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const https = url.protocol === 'https:';
    const port = Number(url.port || (https ? 443 : 80));
    const socket = https
      ? tls.connect({ host, port, servername: sniName(host), rejectUnauthorized: !options.insecure, ca: options.ca, ALPNProtocols: options.alpn, timeout: timeoutMs })
      : net.connect({ host, port, timeout: timeoutMs });
    socket.once(https ? 'secureConnect' : 'connect', () => {
      const alpn = https ? (socket as tls.TLSSocket).alpnProtocol : false;
      socket.destroy();
      resolve(alpn ?? false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new ExpectedError(`cannot connect to ${url.origin}: timed out after ${timeoutMs} ms`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code && CERTIFICATE_CAUSES.has(err.code) ? ' (pass {insecure} to accept it)' : '';
      reject(new ExpectedError(`cannot connect to ${url.origin}: ${err.code ? describeCause(err.code) : err.message}${hint}`, { cause: err }));
    });
  });
}

/** HTTP/2 needs the server to choose h2 in the TLS handshake: otherwise one clear line, never a silent fallback. */
export async function checkSpeaksH2(url: URL, timeoutMs: number, options: Omit<ReachOptions, 'alpn'> = {}): Promise<void> {
  const chosen = await checkReachable(url, timeoutMs, { ...options, alpn: ['h2', 'http/1.1'] });
  if (chosen !== 'h2') {
    throw new ExpectedError(`${url.origin} does not speak HTTP/2: its TLS handshake chose ${chosen === false ? 'no protocol (no ALPN)' : chosen}; leave out {h2}`);
  }
}
