/**
 * A real nginx as a child process this tool owns (found by external/find-program.ts), started in the foreground with a
 * generated configuration in a temporary directory, observed ready (a request answers), stopped on every path.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { ExpectedError } from '../core/errors.js';
import https from 'node:https';

/** `nginx -v` prints "nginx version: nginx/1.22.1" on stderr. */
export function nginxVersion(nginxPath: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(nginxPath, ['-v'], { timeout: 5000 }, (_err, stdout, stderr) => resolve(/nginx\/(\S+)/.exec(`${stdout}${stderr}`)?.[1] ?? 'unknown'));
  });
}

export interface RunningNginx {
  child: ChildProcess;
  /** Everything nginx wrote to stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `nginx -p dir -c conf` in the foreground (daemon off in the config) and returns once it runs. */
export function startNginx(nginxPath: string, dir: string, confFile: string): RunningNginx {
  // -e stderr: nginx opens its error log before it reads the configuration; without it that is a file under
  // the prefix (dir/logs/, created by the caller), never the system's /var/log/nginx.
  const child = spawn(nginxPath, ['-p', dir, '-c', confFile, '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGQUIT: graceful (finish open requests); SIGKILL if it does not go within 5 s.
      child.kill('SIGQUIT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Polls `url` until it answers 200 (nginx up and an instance behind it), nginx exits, or the time is up. */
export async function waitUntilAnswering(url: string, nginx: RunningNginx, timeoutMs: number, insecure = true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (nginx.child.exitCode !== null || nginx.child.signalCode !== null) {
      const line = nginx.output().split('\n').find((l) => /\[(emerg|alert|crit|error)\]/.test(l)) ?? nginx.output().trim().split('\n')[0] ?? '';
      throw new ExpectedError(`nginx exited before it answered: ${line.replace(/^.*?\[(emerg|alert|crit|error)\]\s*\d+#\d+:\s*/, '') || `exit code ${nginx.child.exitCode}`}`);
    }
    const status = await new Promise<number | string>((resolve) => {
      const get = url.startsWith('https:') ? https.get : http.get;
      const req = get(url, { rejectUnauthorized: !insecure, timeout: 1000, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.on('timeout', () => req.destroy());
    });
    if (status === 200) return;
    last = String(status);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new ExpectedError(`nginx did not answer ${url} within ${timeoutMs} ms (last: ${last})`);
}
