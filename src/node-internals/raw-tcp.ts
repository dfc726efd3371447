/**
 * A connection-per-request HTTP/1.1 transport on libuv's TCP handle, without net.Socket.
 *
 * Why: against the cluster on 2 cores the generator shares the CPUs with the primary and the workers, so its
 * CPU per request decides how much is left for the server. Measured here (20k requests, c = 50, /pid): a
 * net.Socket per request costs ~60 µs of user CPU and reaches ~0.7× ab's req/s; the bare handle costs ~15 µs
 * and reaches ~0.9× ab. net.Socket builds a Duplex stream, its two states and listeners for each connection;
 * this does only connect, one write, reads into a shared buffer, and close — the same syscalls ab makes.
 *
 * - Reaches under: `process.binding('tcp_wrap' / 'stream_wrap')` (TCP, TCPConnectWrap, WriteWrap,
 *   streamBaseState), which Node keeps on an allow list for exactly this kind of user-land networking. Not a
 *   documented API.
 * - Check and fallback: `loadRawTcp()` checks every class and field it uses; where one is missing the engine
 *   uses net.Socket instead and says so once (load/close-mode.ts). A route's `transport` says which carried it.
 * - Verified by the matrix (test/node-internals.test.ts: the bindings are there and a probe really uses them)
 *   on Node 20, 22, 24 and 26.
 */
import { getSystemErrorName } from 'node:util';

interface TcpHandle {
  connect(req: object, address: string, port: number): number;
  connect6(req: object, address: string, port: number): number;
  writeBuffer(req: object, data: Buffer): number;
  useUserBuffer(buffer: Buffer): void;
  readStart(): number;
  close(callback?: () => void): void;
  onread: (arrayBuffer: ArrayBuffer | undefined) => void;
}

interface Bindings {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => { oncomplete: ((status: number) => void) | null };
  WriteWrap: new () => { handle: TcpHandle; oncomplete: () => void; async: boolean };
  socketType: number;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
}

let cached: Bindings | null | undefined;

/** The handle bindings, or undefined where this Node does not offer them (then net.Socket is used). */
export function loadRawTcp(): Bindings | undefined {
  if (cached !== undefined) return cached ?? undefined;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const tcp = binding('tcp_wrap') as { TCP: Bindings['TCP']; TCPConnectWrap: Bindings['TCPConnectWrap']; constants: { SOCKET: number } };
    const stream = binding('stream_wrap') as { WriteWrap: Bindings['WriteWrap']; streamBaseState: Int32Array; kReadBytesOrError: number };
    const ok =
      typeof tcp.TCP === 'function' &&
      typeof tcp.TCPConnectWrap === 'function' &&
      typeof stream.WriteWrap === 'function' &&
      stream.streamBaseState instanceof Int32Array &&
      typeof stream.kReadBytesOrError === 'number' &&
      typeof tcp.TCP.prototype.useUserBuffer === 'function';
    cached = ok
      ? {
          TCP: tcp.TCP,
          TCPConnectWrap: tcp.TCPConnectWrap,
          WriteWrap: stream.WriteWrap,
          socketType: tcp.constants.SOCKET,
          streamBaseState: stream.streamBaseState,
          kReadBytesOrError: stream.kReadBytesOrError,
        }
      : null;
  } catch {
    cached = null;
  }
  return cached ?? undefined;
}

export interface RawExchangeCallbacks {
  /** Bytes arrived; `data` is only valid during the call. */
  onData(data: Buffer): void;
  /** The peer closed (EOF) or an error happened (an errno name such as ECONNRESET). */
  onEnd(error: string | undefined): void;
}

/** libuv's end-of-stream code; the same on every platform (UV__EOF). */
const UV_EOF = -4095;

/** One read buffer for every connection: each response is parsed synchronously inside its read callback. */
export const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Node asserts that callbacks it may call are functions; these ignore late reads and finished writes. */
function ignore(): void {}

export interface RawConnection {
  close(): void;
}

/**
 * Connects to ip:port, writes `request` once connected, streams what comes back to `callbacks`, and closes
 * the handle after EOF or an error. `ip` must be a literal address (resolve names before).
 */
export function rawExchange(bindings: Bindings, ip: string, ipv6: boolean, port: number, request: Buffer, callbacks: RawExchangeCallbacks): RawConnection {
  const handle = new bindings.TCP(bindings.socketType);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    handle.onread = ignore;
    handle.close();
  };
  const fail = (status: number) => {
    close();
    callbacks.onEnd(getSystemErrorName(status));
  };
  const connectReq = new bindings.TCPConnectWrap();
  connectReq.oncomplete = (status: number) => {
    if (closed) return;
    if (status < 0) return fail(status);
    const writeReq = new bindings.WriteWrap();
    writeReq.handle = handle;
    // Called only if the write could not complete at once (it always can for a request this small).
    writeReq.oncomplete = ignore;
    writeReq.async = false;
    const writeStatus = handle.writeBuffer(writeReq, request);
    if (writeStatus < 0) return fail(writeStatus);
    handle.useUserBuffer(READ_BUFFER);
    handle.onread = () => {
      const nread = bindings.streamBaseState[bindings.kReadBytesOrError]!;
      if (nread > 0) {
        callbacks.onData(READ_BUFFER.subarray(0, nread));
        return;
      }
      if (nread === 0) return;
      // EOF: the server closed first (it was asked to), so the TIME_WAIT is its, and our port is free again.
      const error = nread === UV_EOF ? undefined : getSystemErrorName(nread);
      close();
      callbacks.onEnd(error);
    };
    const readStatus = handle.readStart();
    if (readStatus < 0) fail(readStatus);
  };
  const status = ipv6 ? handle.connect6(connectReq, ip, port) : handle.connect(connectReq, ip, port);
  if (status < 0) {
    // Synchronous failure (e.g. EADDRNOTAVAIL): report asynchronously like every other outcome.
    closed = true;
    handle.close();
    const name = getSystemErrorName(status);
    queueMicrotask(() => callbacks.onEnd(name));
  }
  return { close };
}
