/**
 * Just enough of HTTP/1.1 to read one response on a `connection: close` socket: the status, the four identity
 * headers, Content-Length / chunked framing, and (only when the server sent no x-worker-pid header) the body,
 * so the PID can be found in the seed's text. Everything else is skipped, which is what makes the
 * one-connection-per-request engine cheap per request.
 */

export interface ParsedResponse {
  status: number;
  pid: number | undefined;
  host: string | undefined;
  primaryPid: number | undefined;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
const MAX_BODY_KEPT = 64 * 1024;

/** The PID in a seed-style body: `Which PID handled this process: 54322`, `… at pid: 54323`, or JSON `"pid":1`. */
export function pidFromBody(body: string): number | undefined {
  const match = /PID handled this process:\s*(\d+)/i.exec(body) ?? /\bat pid:\s*(\d+)/i.exec(body) ?? /"pid"\s*:\s*(\d+)/.exec(body);
  return match ? Number(match[1]) : undefined;
}

/** Decodes a complete chunked body; undefined while it is not complete yet. */
export function decodeChunked(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset, 'latin1');
    if (lineEnd === -1) return undefined;
    const size = parseInt(raw.toString('latin1', offset, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked body');
    offset = lineEnd + 2;
    if (size === 0) {
      // Trailers (rare) end with an empty line; the final CRLF may still be in flight.
      return raw.indexOf('\r\n', offset, 'latin1') === -1 ? undefined : Buffer.concat(parts);
    }
    if (offset + size + 2 > raw.length) return undefined;
    parts.push(raw.subarray(offset, offset + size));
    offset += size + 2;
  }
}

export class ResponseParser {
  private buffer: Buffer | undefined;
  private headEnd = -1;
  private status = 0;
  private contentLength = -1;
  private chunked = false;
  private pid: number | undefined;
  private host: string | undefined;
  private primaryPid: number | undefined;
  private noBody = false;

  constructor(private readonly isHead = false) {}

  /** Feeds bytes; returns the response once it is complete, else undefined. Throws on a malformed response. */
  push(chunk: Buffer, transient = false): ParsedResponse | undefined {
    this.buffer = this.buffer === undefined ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.headEnd === -1) {
      const end = this.buffer.indexOf(CRLFCRLF);
      if (end === -1) {
        if (this.buffer.length > MAX_HEAD) throw new Error('response headers too large');
        if (transient && this.buffer === chunk) this.buffer = Buffer.from(chunk);
        return undefined;
      }
      this.parseHead(end);
    }
    const complete = this.completeIfFramed();
    // A transient chunk lives in a buffer that is reused by the next read: keep a copy of what is pending.
    if (complete === undefined && transient && this.buffer === chunk) this.buffer = Buffer.from(chunk);
    return complete;
  }

  /** The server closed the connection: a response framed by the close itself is complete now. */
  end(): ParsedResponse | undefined {
    if (this.headEnd === -1) return undefined;
    if (this.contentLength === -1 && !this.chunked) return this.finish(this.buffer!.subarray(this.headEnd));
    return this.completeIfFramed();
  }

  private parseHead(end: number): void {
    this.headEnd = end + 4;
    const head = this.buffer!.toString('latin1', 0, end);
    const lines = head.split('\r\n');
    const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!statusLine) throw new Error('malformed status line');
    this.status = Number(statusLine[1]);
    this.noBody = this.isHead || this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      switch (name) {
        case 'content-length':
          this.contentLength = Number(value);
          break;
        case 'transfer-encoding':
          this.chunked = value.toLowerCase().includes('chunked');
          break;
        case 'x-worker-pid':
          this.pid = Number(value) || undefined;
          break;
        case 'x-hostname':
          this.host = value;
          break;
        case 'x-primary-pid':
          this.primaryPid = Number(value) || undefined;
          break;
      }
    }
  }

  private completeIfFramed(): ParsedResponse | undefined {
    const body = this.buffer!.subarray(this.headEnd);
    if (this.noBody) return this.finish(Buffer.alloc(0));
    if (this.chunked) {
      const decoded = decodeChunked(body);
      return decoded === undefined ? undefined : this.finish(decoded);
    }
    if (this.contentLength >= 0) return body.length >= this.contentLength ? this.finish(body.subarray(0, this.contentLength)) : undefined;
    return undefined; // framed by the connection's close
  }

  private finish(body: Buffer): ParsedResponse {
    let pid = this.pid;
    if (pid === undefined && body.length > 0) pid = pidFromBody(body.toString('utf8', 0, Math.min(body.length, MAX_BODY_KEPT)));
    return { status: this.status, pid, host: this.host, primaryPid: this.primaryPid };
  }
}
