/** The pure parts of hosting a user's app (`--app`), with literal inputs. */
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AppCounts } from '../src/app/app-counts.js';
import { AppOutput } from '../src/app/app-output.js';
import { preloadFlags, typeScriptFlags } from '../src/app/app-setup.js';
import { listeningSocketCount } from '../src/cluster/accept-queue.js';
import { emptyRouteCounts, workerRequests } from '../src/cluster/counts/document.js';
import { describeAppListenError, listenErrorInOutput } from '../src/cluster/listen-errors.js';

describe('AppCounts', () => {
  it('counts by path without the query, status class and method; after the limit, new paths are "other"', () => {
    const counts = new AppCounts(2);
    counts.record('GET', '/users/1?x=1', 200);
    counts.record('GET', '/users/1', 304);
    counts.record('POST', '/orders', 201);
    counts.record('GET', '/users/2', 404);
    counts.record('PROPFIND', '/orders', 500);
    counts.record('GET', '/users/3', 200);
    expect(counts.snapshot()).toEqual({
      byPath: {
        '/users/1': { '2xx': 1, '3xx': 1, '4xx': 0, '5xx': 0 },
        '/orders': { '2xx': 1, '3xx': 0, '4xx': 0, '5xx': 1 },
        other: { '2xx': 1, '3xx': 0, '4xx': 1, '5xx': 0 },
      },
      byMethod: { GET: 4, POST: 1, OTHER: 1 },
    });
    expect(counts.total).toBe(6);
    expect(workerRequests({ byRoute: emptyRouteCounts(), app: counts.snapshot() })).toBe(6);
  });

  it('a snapshot is a copy: later counts do not change a report already taken', () => {
    const counts = new AppCounts();
    counts.record('GET', '/', 200);
    const first = counts.snapshot();
    counts.record('GET', '/', 200);
    expect(first.byPath['/']!['2xx']).toBe(1);
    expect(counts.snapshot().byPath['/']!['2xx']).toBe(2);
  });
});

describe('typeScriptFlags', () => {
  const none = new Set<string>();
  it('JavaScript needs nothing; TypeScript nothing where the line strips types, the flag where it is behind one', () => {
    expect(typeScriptFlags('app.mjs', {}, none, 'v20.20.2')).toEqual([]);
    expect(typeScriptFlags('src/main.ts', { typescript: 'strip' }, none, 'v24.22.3')).toEqual([]);
    expect(typeScriptFlags('main.mts', { typescript: false }, new Set(['--experimental-strip-types']), 'v22.8.0')).toEqual(['--experimental-strip-types']);
  });

  it('a line without it: one line naming the fix', () => {
    expect(() => typeScriptFlags('src/main.ts', {}, none, 'v20.20.2')).toThrow(
      'src/main.ts is TypeScript, and Node v20.20.2 cannot strip types: run cluster-demo with Node 22.18 or newer (or 22.6+ with the flag, added for you), or build main.ts to JavaScript and pass that',
    );
  });
});

describe('preloadFlags', () => {
  it('--require where Node can require() an ES module, --import (a file URL) elsewhere', () => {
    expect(preloadFlags('/opt/cd/dist/app/agent.js', { require_module: true })).toEqual(['--require', '/opt/cd/dist/app/agent.js']);
    expect(preloadFlags('/opt/cd/dist/app/agent.js', {})).toEqual(['--import', 'file:///opt/cd/dist/app/agent.js']);
  });
});

describe('AppOutput: a worker’s stderr held until it listens', () => {
  /** A worker's pipe: 'data' events, emitted here synchronously (a stream may deliver them on a later tick). */
  const pipe = () => new EventEmitter() as EventEmitter & Readable;
  const say = (p: EventEmitter, text: string) => p.emit('data', Buffer.from(text));
  /** Our stdout and stderr: what was written to each. */
  function sinks() {
    const written = { out: '', err: '' };
    const out = { write: (chunk: Buffer | string) => ((written.out += chunk.toString()), true) } as unknown as Writable;
    const err = { write: (chunk: Buffer | string) => ((written.err += chunk.toString()), true) } as unknown as Writable;
    return { out, err, written };
  }

  it('flows once it listens; a death before shows its text once, however many workers said the same', () => {
    const { out, err, written } = sinks();
    const output = new AppOutput('stdout', out, err);
    const workers = [0, 1, 2].map(() => {
      const stdout = pipe();
      const stderr = pipe();
      return { stdout, stderr, gate: output.attach(stdout, stderr) };
    });
    for (const w of workers) say(w.stderr, 'Error: DATABASE_URL is not set\n');
    say(workers[0]!.stdout, 'Worker 1 started\n');
    expect(written).toEqual({ out: 'Worker 1 started\n', err: '' });
    expect(workers[0]!.gate.heldText()).toBe('Error: DATABASE_URL is not set\n');
    expect(workers[0]!.gate.showOnce()).toBe(true);
    expect(workers[1]!.gate.showOnce()).toBe(false);
    expect(written.err).toBe('Error: DATABASE_URL is not set\n');
    // A judged worker's late output goes nowhere.
    say(workers[0]!.stderr, 'more of the same crash\n');
    workers[2]!.gate.open();
    say(workers[2]!.stderr, 'later\n');
    expect(written.err).toBe('Error: DATABASE_URL is not set\nError: DATABASE_URL is not set\nlater\n');
  });

  it('dropped when our own line says what happened; the app’s stdout to our stderr for the measuring commands', () => {
    const { out, err, written } = sinks();
    const output = new AppOutput('stderr', out, err);
    const stdout = pipe();
    const stderr = pipe();
    const gate = output.attach(stdout, stderr);
    say(stderr, 'Error: listen EADDRINUSE\n    at Server.setupListenHandle\n');
    gate.drop();
    say(stderr, '    at the rest of the stack\n');
    say(stdout, 'App listening on port 3000\n');
    expect(written).toEqual({ out: '', err: 'App listening on port 3000\n' });
  });
});

describe('listen failures and sockets', () => {
  it("an app's failed listen names the app and leaves our flags out of it", () => {
    expect(describeAppListenError('app.js', 'EADDRINUSE', '127.0.0.1', 3000)).toBe('app.js cannot listen on 127.0.0.1:3000: the port is already in use — stop what holds it, or give the app another port');
    expect(describeAppListenError('app.js', 'EACCES', '0.0.0.0', 80)).toBe('app.js cannot listen on 0.0.0.0:80: permission denied (ports below 1024 need privileges) — give the app another port');
  });

  it("finds Node's own words for a failed listen in a crash's output", () => {
    expect(listenErrorInOutput("node:events:502\n      throw er; // Unhandled 'error' event\n      ^\n\nError: bind EADDRINUSE 127.0.0.1:33299\n    at listenOnPrimaryHandle (node:net:1989:18)\n")).toEqual({ code: 'EADDRINUSE', host: '127.0.0.1', port: 33299 });
    expect(listenErrorInOutput('Error: listen EADDRINUSE: address already in use :::3000\n    at Server.setupListenHandle')).toEqual({ code: 'EADDRINUSE', host: '::', port: 3000 });
    expect(listenErrorInOutput('Error: listen EACCES: permission denied 0.0.0.0:80')).toEqual({ code: 'EACCES', host: '0.0.0.0', port: 80 });
    expect(listenErrorInOutput('Error: DATABASE_URL is not set\n    at file:///app.mjs:2:7')).toBeNull();
  });

  it('counts the LISTEN sockets on a port in /proc/net/tcp (reuseport: one per worker)', () => {
    const proc = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1',
      '   1: 0100007F:0BB8 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 2 1',
      '   2: 0100007F:0BB8 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 3 1',
      '   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1',
    ].join('\n');
    expect(listeningSocketCount(proc, 3000)).toBe(2);
    expect(listeningSocketCount(proc, 8080)).toBe(1);
    expect(listeningSocketCount(proc, 9999)).toBe(0);
  });
});
