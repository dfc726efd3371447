/**
 * The library names a run's options by key (`chaosMs`); the command line by flag (`--chaos`). This is the one
 * place that knows both: errors the library throws (core/errors.ts) are printed with the flags.
 */
const FLAGS: Record<string, string> = {
  url: '--url',
  workers: '--workers',
  sched: '--sched',
  concurrency: '--concurrency',
  requests: '--requests',
  durationMs: '--duration',
  route: '--route',
  n: '--n',
  timeoutMs: '--timeout',
  keepAlive: '--keep-alive',
  connections: '--connections',
  retries: '--retries',
  insecure: '--insecure',
  chaosMs: '--chaos',
  reload: '--reload',
  h2: '--h2',
  tls: '--tls',
  protocols: '--protocols',
  expectWorkers: '--expect-workers',
  expectHosts: '--expect-hosts',
  browserPath: '--browser-path',
  nginxPath: '--nginx-path',
  layers: '--lb',
  maxConnectionAgeMs: '--max-connection-age',
  singleVsCluster: '--single-vs-cluster',
  report: '--report',
  app: '--app',
  paths: '--path',
};

export function flagOf(key: string): string {
  return FLAGS[key] ?? `{${key}}`;
}
