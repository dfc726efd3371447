/**
 * The HTTP/2 sender (src/load/h2.ts) against a raw node:http2 server that refuses streams on purpose: a stream
 * refused unprocessed (REFUSED_STREAM, or a GOAWAY) is sent again on a session that works, and counted.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../src/load/engine.js';
import { selfSignedCertificate } from '../src/cluster/tls/certificate.js';

let server: http2.Http2SecureServer | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** An HTTP/2 server whose first `refuse` streams are reset with REFUSED_STREAM; the rest get 200 and a PID header. */
async function refusingServer(refuse: number, goawayAfter?: number): Promise<{ url: URL; ca: string }> {
  const tls = await selfSignedCertificate(1);
  let streams = 0;
  server = http2.createSecureServer({ cert: tls.cert, key: tls.key });
  server.on('stream', (stream) => {
    streams++;
    // A stream closed with an error code emits 'error' on the server's side too: the test expects it.
    stream.on('error', () => undefined);
    if (streams <= refuse) return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    stream.respond({ ':status': 200, 'x-worker-pid': '4242' });
    stream.end('ok');
    // A session that has answered its share closes gracefully, as a draining worker's does: a GOAWAY, then the
    // end of the connection once its streams are done. Streams after its last one must go elsewhere.
    if (goawayAfter !== undefined && streams % goawayAfter === 0) stream.session?.close();
  });
  server.on('sessionError', () => undefined);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`), ca: tls.cert };
}

describe('HTTP/2 sender', () => {
  it('streams refused unprocessed are sent again and counted, not failed', async () => {
    const { url, ca } = await refusingServer(3);
    const recording = await runLoad({ target: url, path: '/pid', concurrency: 1, requests: 10, keepAlive: false, timeoutMs: 5_000, retries: 0, protocol: 'h2', ca });
    expect(recording.protocol).toBe('h2');
    expect(recording.collector.ok).toBe(10);
    expect(recording.collector.failed).toBe(0);
    expect(recording.collector.goawayRetries).toBe(3);
  });

  it('after a GOAWAY, the next streams go over a new session', async () => {
    const { url, ca } = await refusingServer(0, 5);
    const recording = await runLoad({ target: url, path: '/pid', concurrency: 1, requests: 20, keepAlive: false, timeoutMs: 5_000, retries: 0, protocol: 'h2', ca });
    expect(recording.collector.ok).toBe(20);
    expect(recording.collector.failed).toBe(0);
  });
});
