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
