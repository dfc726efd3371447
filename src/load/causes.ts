/** Plain words for the errno codes and causes the engine records; unknown ones are shown as they are. */
const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'broken pipe',
  EADDRNOTAVAIL: 'no free local port (EADDRNOTAVAIL)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  timeout: 'timeout',
};

export function describeCause(cause: string): string {
  return CAUSES[cause] ?? cause;
}
