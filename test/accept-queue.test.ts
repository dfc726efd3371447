import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { acceptQueueLength, endOfListenLines, listeningSockets, pendingConnections } from '../src/cluster/accept-queue.js';

// Lines as /proc/net/tcp prints them: port 0x1F90 = 8080 listening with 3 connections queued (rx_queue), an
// established connection on the same port (not counted), another listener on port 0x0050 = 80.
const PROC_NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:0000005C 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0050 00000000:0000 0A 00000000:00000007 00:00000000 00000000     0        0 1003 1 0000000000000000 100 0 0 10 0
`;

describe('acceptQueueLength', () => {
  it('reads the accept queue of the LISTEN lines on the port only', () => {
    expect(acceptQueueLength(PROC_NET_TCP, 8080)).toBe(3);
    expect(acceptQueueLength(PROC_NET_TCP, 80)).toBe(7);
    expect(acceptQueueLength(PROC_NET_TCP, 3000)).toBe(0);
    expect(acceptQueueLength('', 8080)).toBe(0);
  });

  it.runIf(process.platform === 'linux')('reads this machine\'s /proc', () => {
    expect(pendingConnections(1)).toBe(0);
  });
});

describe('endOfListenLines (the kernel lists LISTEN sockets first: reading stops after them)', () => {
  const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const listen = '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 1001 1\n';
  const timeWait = '   1: 0100007F:1F90 0100007F:C350 06 00000000:00000000 03:00000F2B 00000000     0        0 0 3\n';

  it('is where the first other line starts, or null while every complete line is a LISTEN line', () => {
    expect(endOfListenLines('')).toBeNull();
    expect(endOfListenLines(HEADER.slice(0, 20))).toBeNull();
    expect(endOfListenLines(HEADER)).toBeNull();
    expect(endOfListenLines(HEADER + listen + listen)).toBeNull();
    // A line cut by the end of a read is not judged yet.
    expect(endOfListenLines(HEADER + listen + timeWait.slice(0, 30))).toBeNull();
    expect(endOfListenLines(HEADER + listen + timeWait + listen)).toBe(HEADER.length + listen.length);
    expect(endOfListenLines(HEADER + timeWait)).toBe(HEADER.length);
  });

  it.runIf(process.platform === 'linux')('finds a listener on this machine with closed connections (TIME_WAIT) listed after it', async () => {
    const server = net.createServer((socket) => socket.end('x'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('data', () => undefined).on('error', reject).on('close', () => resolve());
        });
      }
      expect(listeningSockets(port)).toBe(1);
      expect(pendingConnections(port)).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
