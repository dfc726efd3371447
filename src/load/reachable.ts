import net from 'node:net';
import tls from 'node:tls';
import { ExpectedError } from '../core/errors.js';
import { CERTIFICATE_CAUSES, describeCause } from './causes.js';
import { sniName } from './engine.js';

/**
 * One connection before the load (with https, a full TLS handshake), so "nothing is listening" or "the
 * certificate does not verify" is one clear line rather than N failures.
 */
export function checkReachable(url: URL, timeoutMs: number, insecure = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const https = url.protocol === 'https:';
    const port = Number(url.port || (https ? 443 : 80));
    const socket = https
      ? tls.connect({ host, port, servername: sniName(host), rejectUnauthorized: !insecure, timeout: timeoutMs })
      : net.connect({ host, port, timeout: timeoutMs });
    socket.once(https ? 'secureConnect' : 'connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new ExpectedError(`cannot connect to ${url.origin}: timed out after ${timeoutMs} ms`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code && CERTIFICATE_CAUSES.has(err.code) ? ' (pass --insecure to accept it)' : '';
      reject(new ExpectedError(`cannot connect to ${url.origin}: ${err.code ? describeCause(err.code) : err.message}${hint}`, { cause: err }));
    });
  });
}
