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

import { pidFromBody } from './pid-from-body.js';
export { pidFromBody };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
const MAX_BODY_KEPT = 64 * 1024;
const EMPTY = Buffer.alloc(0);


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

const enum Header {
  Other,
  ContentLength,
  TransferEncoding,
  WorkerPid,
  Hostname,
  PrimaryPid,
}

const HEADER_NAMES: Array<[Buffer, Header]> = [
  [Buffer.from('content-length'), Header.ContentLength],
  [Buffer.from('transfer-encoding'), Header.TransferEncoding],
  [Buffer.from('x-worker-pid'), Header.WorkerPid],
  [Buffer.from('x-hostname'), Header.Hostname],
  [Buffer.from('x-primary-pid'), Header.PrimaryPid],
];

/** Which of the headers we read buf[start, end) names, ignoring ASCII case. */
function matchHeader(buf: Buffer, start: number, end: number): Header {
  const length = end - start;
  for (const [name, header] of HEADER_NAMES) {
    if (name.length !== length) continue;
    let i = 0;
    // | 0x20 lowercases ASCII letters; the names contain only letters and '-', which it leaves alone.
    while (i < length && (buf[start + i]! | 0x20) === name[i]) i++;
    if (i === length) return header;
  }
  return Header.Other;
}

/** The decimal number in buf[start, end), or -1 if it is empty or has anything but digits. */
function digitsAt(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function positiveOrUndefined(n: number): number | undefined {
  return n > 0 ? n : undefined;
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

  /**
   * Reads the status line and the few headers that matter straight from the bytes: no string per line or per
   * header name (at thousands of responses a second, those strings are most of the generator's garbage).
   */
  private parseHead(end: number): void {
    const buf = this.buffer!;
    this.headEnd = end + 4;
    // "HTTP/1.0 200" or "HTTP/1.1 200"
    if (end < 12 || buf.toString('latin1', 0, 7) !== 'HTTP/1.' || (buf[7] !== 0x30 && buf[7] !== 0x31) || buf[8] !== 0x20) {
      throw new Error('malformed status line');
    }
    const status = digitsAt(buf, 9, 12);
    if (status < 100) throw new Error('malformed status line');
    this.status = status;
    this.noBody = this.isHead || status === 204 || status === 304 || (status >= 100 && status < 200);
    let lineStart = buf.indexOf(0x0a, 12) + 1;
    while (lineStart > 0 && lineStart < end) {
      let lineEnd = buf.indexOf(0x0d, lineStart);
      if (lineEnd === -1 || lineEnd > end) lineEnd = end;
      const colon = buf.indexOf(0x3a, lineStart);
      if (colon > lineStart && colon < lineEnd) {
        let valueStart = colon + 1;
        let valueEnd = lineEnd;
        while (valueStart < valueEnd && (buf[valueStart] === 0x20 || buf[valueStart] === 0x09)) valueStart++;
        while (valueEnd > valueStart && (buf[valueEnd - 1] === 0x20 || buf[valueEnd - 1] === 0x09)) valueEnd--;
        switch (matchHeader(buf, lineStart, colon)) {
          case Header.ContentLength:
            this.contentLength = digitsAt(buf, valueStart, valueEnd);
            if (this.contentLength < 0) throw new Error('malformed content-length');
            break;
          case Header.TransferEncoding:
            this.chunked = buf.toString('latin1', valueStart, valueEnd).toLowerCase().includes('chunked');
            break;
          case Header.WorkerPid:
            this.pid = positiveOrUndefined(digitsAt(buf, valueStart, valueEnd));
            break;
          case Header.Hostname:
            this.host = buf.toString('latin1', valueStart, valueEnd);
            break;
          case Header.PrimaryPid:
            this.primaryPid = positiveOrUndefined(digitsAt(buf, valueStart, valueEnd));
            break;
        }
      }
      lineStart = lineEnd + 2;
    }
  }

  private completeIfFramed(): ParsedResponse | undefined {
    const body = this.buffer!.subarray(this.headEnd);
    if (this.noBody) return this.finish(EMPTY);
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
