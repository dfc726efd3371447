/** One clear line for each way a server can fail to listen, with what to do about it. */
export function describeListenError(code: string, host: string, port: number, detail?: string): string {
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use on ${host} — choose another with --port`;
    case 'EACCES':
      return `permission denied to listen on ${host}:${port} — ports below 1024 need privileges; choose another with --port`;
    case 'EADDRNOTAVAIL':
      return `address ${host} is not available on this machine — check --host (127.0.0.1 or 0.0.0.0)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host ${host} could not be resolved — check --host`;
    default:
      return `cannot listen on ${host}:${port}: ${detail ?? code}`;
  }
}

/**
 * Node's own words for a failed listen in a crash's output ("Error: listen EADDRINUSE: address already in use
 * 127.0.0.1:3000", "Error: bind EADDRINUSE 127.0.0.1:3000"): the fallback when a dying app's last message
 * (app/agent.ts) did not get out before it exited. Pure.
 */
export function listenErrorInOutput(text: string): { code: string; host: string; port: number } | null {
  const found = /\b(?:listen|bind) (EADDRINUSE|EACCES|EADDRNOTAVAIL)\b[^\n]*?(\[?[\w.:]*?\]?):(\d+)\s*$/m.exec(text);
  return found ? { code: found[1]!, host: found[2]!.replace(/^\[|\]$/g, '') || '::', port: Number(found[3]) } : null;
}

/** The same for a user's app (`--app`), which chose its own address: the fix is in the app, not in our flags. */
export function describeAppListenError(app: string, code: string, host: string, port: number, detail?: string): string {
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `${app} cannot listen on ${where}: the port is already in use — stop what holds it, or give the app another port`;
    case 'EACCES':
      return `${app} cannot listen on ${where}: permission denied (ports below 1024 need privileges) — give the app another port`;
    default:
      return `${app} cannot listen on ${where}: ${detail ?? code}`;
  }
}
