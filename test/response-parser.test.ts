/**
 * The close-mode engine's HTTP/1.1 response parser (src/load/response-parser.ts), fed literal bytes:
 * Content-Length and chunked framing in arbitrary pieces, a body framed by the close, responses without a
 * body, malformed input, and finding the PID in the seed's body texts.
 */
import { describe, expect, it } from 'vitest';
import { decodeChunked, pidFromBody, ResponseParser, type ParsedResponse } from '../src/load/response-parser.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** Feeds `pieces` in order; every push before the last must return undefined. */
function feedAll(parser: ResponseParser, pieces: string[]): ParsedResponse | undefined {
  for (let i = 0; i < pieces.length - 1; i++) expect(parser.push(bytes(pieces[i]!)), `piece ${i} completed the response early`).toBeUndefined();
  return parser.push(bytes(pieces[pieces.length - 1]!));
}

/** `text` cut at the given offsets. */
function splitAt(text: string, offsets: number[]): string[] {
  const pieces: string[] = [];
  let from = 0;
  for (const at of offsets) {
    pieces.push(text.slice(from, at));
    from = at;
  }
  pieces.push(text.slice(from));
  return pieces;
}

/** What the seed's Express app sends for /pid (Connection: close requested). */
const EXPRESS_PID =
  'HTTP/1.1 200 OK\r\n' +
  'X-Powered-By: Express\r\n' +
  'Content-Type: text/html; charset=utf-8\r\n' +
  'Content-Length: 37\r\n' +
  'ETag: W/"25-abc"\r\n' +
  'Date: Tue, 24 Nov 2026 13:08:16 GMT\r\n' +
  'Connection: close\r\n' +
  '\r\n' +
  'Which PID handled this process: 54322';

const CHUNKED =
  'HTTP/1.1 200 OK\r\n' +
  'Transfer-Encoding: chunked\r\n' +
  'X-Worker-Pid: 4242\r\n' +
  'X-Primary-Pid: 4000\r\n' +
  'X-Hostname: box-1\r\n' +
  '\r\n' +
  '5\r\nhello\r\n' +
  '7\r\n, world\r\n' +
  '0\r\n\r\n';

const CHUNKED_SEED_BODY =
  'HTTP/1.1 200 OK\r\n' +
  'transfer-encoding: chunked\r\n' +
  '\r\n' +
  '10\r\nFinal count is 5\r\n' +
  '19\r\n00000500000 at pid: 54323\r\n' +
  '0\r\n\r\n';

describe('ResponseParser with Content-Length', () => {
  it('reads the seed Express /pid response in one piece, PID from the body', () => {
    expect(EXPRESS_PID.length - EXPRESS_PID.indexOf('\r\n\r\n') - 4).toBe(37);
    expect(new ResponseParser().push(bytes(EXPRESS_PID))).toEqual({ status: 200, pid: 54322, host: undefined, primaryPid: undefined });
  });

  it('completes only once the whole body arrived, wherever the response is cut', () => {
    for (let cut = 1; cut < EXPRESS_PID.length; cut++) {
      const parsed = feedAll(new ResponseParser(), splitAt(EXPRESS_PID, [cut]));
      expect(parsed, `cut at ${cut}`).toEqual({ status: 200, pid: 54322, host: undefined, primaryPid: undefined });
    }
  });

  it('reads identity headers (any case) and prefers x-worker-pid over the body', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 34\r\nx-WORKER-pid: 11\r\nX-Primary-Pid: 10\r\nX-Hostname: host-a\r\n\r\nWhich PID handled this process: 99';
    expect(new ResponseParser().push(bytes(response))).toEqual({ status: 200, pid: 11, host: 'host-a', primaryPid: 10 });
  });

  it('ignores bytes past Content-Length', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloWhich PID handled this process: 99';
    expect(new ResponseParser().push(bytes(response))).toEqual({ status: 200, pid: undefined, host: undefined, primaryPid: undefined });
  });

  it('a body cut short by the close is not a response', () => {
    const parser = new ResponseParser();
    expect(parser.push(bytes(EXPRESS_PID.slice(0, -5)))).toBeUndefined();
    expect(parser.end()).toBeUndefined();
  });

  it('reports error statuses as they are', () => {
    const response = 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nX-Worker-Pid: 7\r\n\r\n';
    expect(new ResponseParser().push(bytes(response))).toEqual({ status: 503, pid: 7, host: undefined, primaryPid: undefined });
  });

  it('copies a transient chunk it must keep: the caller may overwrite its read buffer', () => {
    const shared = Buffer.alloc(256);
    const parser = new ResponseParser();
    const [first, second, third] = splitAt(EXPRESS_PID, [20, EXPRESS_PID.length - 10]);
    for (const piece of [first!, second!]) {
      const n = shared.write(piece, 'latin1');
      expect(parser.push(shared.subarray(0, n), true)).toBeUndefined();
      shared.fill('X'); // the next read reuses the buffer
    }
    const n = shared.write(third!, 'latin1');
    expect(parser.push(shared.subarray(0, n), true)).toEqual({ status: 200, pid: 54322, host: undefined, primaryPid: undefined });
  });
});

describe('ResponseParser with chunked framing', () => {
  it('decodes a chunked body in one piece', () => {
    expect(new ResponseParser().push(bytes(CHUNKED))).toEqual({ status: 200, pid: 4242, host: 'box-1', primaryPid: 4000 });
    expect(new ResponseParser().push(bytes(CHUNKED_SEED_BODY))).toEqual({ status: 200, pid: 54323, host: undefined, primaryPid: undefined });
  });

  it('completes only at the last CRLF when split across several pushes, also inside the header block', () => {
    const headEnd = CHUNKED.indexOf('\r\n\r\n');
    // Inside a header name, inside the CRLFCRLF, inside a chunk size, inside chunk data, inside the last chunk.
    const cuts = [12, 30, headEnd + 2, headEnd + 5, CHUNKED.indexOf('7\r\n') + 1, CHUNKED.indexOf(', world') + 3, CHUNKED.length - 3, CHUNKED.length - 1];
    expect(feedAll(new ResponseParser(), splitAt(CHUNKED, cuts))).toEqual({ status: 200, pid: 4242, host: 'box-1', primaryPid: 4000 });
  });

  it('completes only at the last byte when fed one byte at a time', () => {
    expect(feedAll(new ResponseParser(), CHUNKED_SEED_BODY.split(''))).toEqual({ status: 200, pid: 54323, host: undefined, primaryPid: undefined });
  });

  it('throws on a malformed chunk size', () => {
    const response = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n';
    expect(() => new ResponseParser().push(bytes(response))).toThrow(/malformed chunked body/);
  });

  it('decodeChunked: undefined until complete, then the joined data (trailers allowed)', () => {
    expect(decodeChunked(bytes('5\r\nhel'))).toBeUndefined();
    expect(decodeChunked(bytes('5\r\nhello\r\n0\r\n'))).toBeUndefined();
    expect(decodeChunked(bytes('5\r\nhello\r\n0\r\n\r\n'))?.toString()).toBe('hello');
    expect(decodeChunked(bytes('3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n'))?.toString()).toBe('abcde');
    expect(decodeChunked(bytes('0\r\n\r\n'))?.length).toBe(0);
  });
});

describe('ResponseParser with a body framed by the close', () => {
  it('completes on end() with the PID from the body', () => {
    const parser = new ResponseParser();
    expect(parser.push(bytes('HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nWhich PID handled '))).toBeUndefined();
    expect(parser.push(bytes('this process: 777'))).toBeUndefined();
    expect(parser.end()).toEqual({ status: 200, pid: 777, host: undefined, primaryPid: undefined });
  });

  it('an empty body framed by the close is still a response', () => {
    const parser = new ResponseParser();
    expect(parser.push(bytes('HTTP/1.1 200 OK\r\nX-Worker-Pid: 5\r\n\r\n'))).toBeUndefined();
    expect(parser.end()).toEqual({ status: 200, pid: 5, host: undefined, primaryPid: undefined });
  });

  it('a close before the headers ended is no response', () => {
    const parser = new ResponseParser();
    expect(parser.end()).toBeUndefined();
    expect(parser.push(bytes('HTTP/1.1 200 OK\r\nContent-Le'))).toBeUndefined();
    expect(parser.end()).toBeUndefined();
  });
});

describe('ResponseParser: responses without a body', () => {
  it('HEAD completes at the end of the headers, whatever Content-Length says', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 37\r\nX-Worker-Pid: 31\r\n\r\n';
    expect(new ResponseParser(true).push(bytes(response))).toEqual({ status: 200, pid: 31, host: undefined, primaryPid: undefined });
    // The same bytes to a GET wait for the 37 bytes of body.
    expect(new ResponseParser(false).push(bytes(response))).toBeUndefined();
  });

  it('204 and 304 complete at the end of the headers', () => {
    expect(new ResponseParser().push(bytes('HTTP/1.1 204 No Content\r\nX-Worker-Pid: 8\r\n\r\n'))).toEqual({ status: 204, pid: 8, host: undefined, primaryPid: undefined });
    expect(new ResponseParser().push(bytes('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'))).toEqual({
      status: 304,
      pid: undefined,
      host: undefined,
      primaryPid: undefined,
    });
  });
});

describe('ResponseParser: malformed responses', () => {
  it('throws on a malformed status line', () => {
    expect(() => new ResponseParser().push(bytes('FOO 200 OK\r\n\r\n'))).toThrow(/malformed status line/);
    expect(() => new ResponseParser().push(bytes('HTTP/2 200\r\n\r\n'))).toThrow(/malformed status line/);
    expect(() => new ResponseParser().push(bytes('HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n'))).toThrow(/malformed status line/);
    expect(() => new ResponseParser().push(bytes('\r\n\r\n'))).toThrow(/malformed status line/);
  });

  it('throws only once the header block is complete', () => {
    const parser = new ResponseParser();
    expect(parser.push(bytes('garbage\r\n'))).toBeUndefined();
    expect(() => parser.push(bytes('\r\n'))).toThrow(/malformed status line/);
  });

  it('throws when the headers never end', () => {
    const parser = new ResponseParser();
    expect(() => parser.push(Buffer.alloc(65 * 1024, 'a'))).toThrow(/headers too large/);
  });
});

describe('pidFromBody', () => {
  it("finds the PID in the seed's two body texts", () => {
    expect(pidFromBody('Which PID handled this process: 54322')).toBe(54322);
    expect(pidFromBody('Final count is 500000500000 at pid: 54323')).toBe(54323);
    expect(pidFromBody('Final count is 0 at pid: 1')).toBe(1);
  });

  it('finds the PID in JSON', () => {
    expect(pidFromBody('{"pid":123,"workerId":2}')).toBe(123);
    expect(pidFromBody('{ "message": "Hello World!", "pid" : 4567 }')).toBe(4567);
  });

  it('finds nothing where there is no PID', () => {
    expect(pidFromBody('Hello World!')).toBeUndefined();
    expect(pidFromBody('')).toBeUndefined();
    expect(pidFromBody('{"workerId":2}')).toBeUndefined();
    // The count is not the PID.
    expect(pidFromBody('Final count is 500000500000')).toBeUndefined();
  });
});
