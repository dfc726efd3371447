/**
 * The order of DevTools events the recorder must survive, without a browser: Chromium sends a response's
 * headers (Network.responseReceived) and, a moment later on the same channel, Network.loadingFinished. The
 * seed's Express app names its PID only in the body, which can be read only once loading finished.
 */
import { EventEmitter } from 'node:events';
import type { BrowserContext, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RequestRecorder } from '../src/browser/driver.js';

const URL_1 = 'http://127.0.0.1:3000/api/100000000?tab=1';

class FakeSession extends EventEmitter {
  readonly bodies = new Map<string, string>();
  readonly sent: string[] = [];
  async send(method: string, params?: { requestId: string }): Promise<unknown> {
    this.sent.push(method);
    if (method === 'Network.getResponseBody') {
      const body = this.bodies.get(params!.requestId);
      if (body === undefined) throw new Error('No resource with given identifier found');
      return { body, base64Encoded: false };
    }
    return {};
  }
}

async function recorderOn(session: FakeSession): Promise<RequestRecorder> {
  const context = { newCDPSession: async () => session } as unknown as BrowserContext;
  return RequestRecorder.attach(context, {} as Page);
}

function respond(session: FakeSession, requestId: string, headers: Record<string, string>): void {
  session.emit('Network.requestWillBeSent', { requestId, timestamp: 10, request: { url: URL_1 } });
  session.emit('Network.responseReceived', {
    requestId,
    timestamp: 10.2,
    response: { status: 200, headers, connectionId: 7, connectionReused: false, protocol: 'http/1.1', timing: { requestTime: 10, sendStart: 1, receiveHeadersEnd: 190 } },
  });
}

describe('RequestRecorder', () => {
  it('waits for loadingFinished after the headers, then reads the PID from the body', async () => {
    const session = new FakeSession();
    const recorder = await recorderOn(session);
    session.bodies.set('r1', 'Final count is 5000000050000000 at pid: 4242');
    respond(session, 'r1', { 'content-type': 'text/html; charset=utf-8' });
    // The headers are in, loading has not finished yet: it does, 50 ms later.
    setTimeout(() => session.emit('Network.loadingFinished', { requestId: 'r1', timestamp: 10.25 }), 50);
    const [r] = await recorder.requestsFor([URL_1], 2_000);
    expect(r).toMatchObject({ url: URL_1, status: 200, pid: 4242, connectionId: 7, endedS: 10.25, error: null });
  });

  it('takes the PID from x-worker-pid and does not ask for the body', async () => {
    const session = new FakeSession();
    const recorder = await recorderOn(session);
    respond(session, 'r1', { 'x-worker-pid': '31337', 'x-primary-pid': '31000' });
    session.emit('Network.loadingFinished', { requestId: 'r1', timestamp: 10.25 });
    const [r] = await recorder.requestsFor([URL_1], 2_000);
    expect(r).toMatchObject({ pid: 31337, primaryPid: 31000 });
    expect(session.sent).toEqual(['Network.enable']);
  });

  it('a request that fails is settled with its error; one never finished is returned as it stands once the wait ends', async () => {
    const session = new FakeSession();
    const recorder = await recorderOn(session);
    respond(session, 'r1', {});
    session.emit('Network.loadingFailed', { requestId: 'r1', timestamp: 10.3, errorText: 'net::ERR_CONNECTION_RESET' });
    expect((await recorder.requestsFor([URL_1], 2_000))[0]).toMatchObject({ error: 'net::ERR_CONNECTION_RESET', pid: null, endedS: 10.3 });

    const other = new FakeSession();
    const stuck = await recorderOn(other);
    respond(other, 'r2', {});
    const started = Date.now();
    const [r] = await stuck.requestsFor([URL_1], 100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(r).toMatchObject({ status: 200, pid: null, error: null });
  });
});
