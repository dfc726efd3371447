import { describe, expect, it } from 'vitest';
import { acceptQueueLength, pendingConnections } from '../src/cluster/accept-queue.js';

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
