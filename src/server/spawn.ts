/**
 * Runs a server in a child process and waits for its readiness line (`listening on http://…`). `compare`
 * uses it for both contenders so that neither shares an event loop with the load generator; the tests use it
 * to send real signals to a real `cluster-demo serve`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SpawnedServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the child printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the child is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends signal (default SIGTERM) and waits for the exit; SIGKILL after timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const READY = /listening on (http:\/\/\S+)/;

/** The CLI's entry, as built: dist/cli.js (also when these sources run as TypeScript under vitest). */
export function cliEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/cli.js' : '../cli.js', import.meta.url));
}

export function singleEntryPath(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../dist/server/single.js' : './single.js', import.meta.url));
}

/** Starts `node <script> <args>` and resolves once it prints its `listening on` line. */
export function spawnServer(script: string, args: string[], options: { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise<SpawnedServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not print "listening on" within ${options.readyTimeoutMs ?? 30_000} ms:\n${output}`));
    }, options.readyTimeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = READY.exec(output);
      if (match && child.pid !== undefined) {
        clearTimeout(timer);
        const listenUrl = new URL(match[1]!);
        if (listenUrl.hostname === '0.0.0.0') listenUrl.hostname = '127.0.0.1';
        resolve({
          url: listenUrl.origin,
          pid: child.pid,
          child,
          output: () => output,
          exited,
          stop: async (signal = 'SIGTERM', timeoutMs = 15_000) => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
            try {
              return await exited;
            } finally {
              clearTimeout(killer);
            }
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? `code ${code}`}) before it was ready:\n${output}`));
    });
  });
}
