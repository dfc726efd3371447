/**
 * The external load tools (ab, hey, wrk): finding them, running them with a hard time limit, and reading
 * their req/s and error counts from their own output. Every figure they report is from their own timing
 * (first connection to last response), so process start-up is not in it, as it is not in ours.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export type ToolName = 'ab' | 'hey' | 'wrk';
export const INSTALL_HINT = 'apt-get install apache2-utils hey wrk';
export const PACKAGE_OF: Record<ToolName, string> = { ab: 'apache2-utils', hey: 'hey', wrk: 'wrk' };

/** Children started here and not yet exited; killed on the way out whatever happens. */
export const liveChildren = new Set<ChildProcess>();

export interface ToolResult {
  rps: number;
  completed: number;
  errors: number;
}

/** Whether `name` is a command on the PATH (the load tools, and taskset for bench/lib/pinning.ts). */
export function haveTool(name: ToolName | 'taskset'): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** One line per tool: its version, for the machine section. */
export function toolVersions(): Record<string, string> {
  const first = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim()) ?? '';
  };
  const out: Record<string, string> = {};
  if (haveTool('ab')) out.ab = first('ab', ['-V']).replace(/^This is /, '').replace(/ <\$Revision\$>/, '').trim();
  if (haveTool('wrk')) out.wrk = first('wrk', ['-v']).replace(/ Copyright.*$/, '').trim();
  if (haveTool('hey')) {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'hey'], { encoding: 'utf8', timeout: 5000 });
    out.hey = r.status === 0 ? `hey ${r.stdout.trim()} (Debian)` : 'hey';
  }
  return out;
}

interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a command to completion, or SIGKILLs it after timeoutMs; never rejects for a non-zero exit. `onSpawn`
 * sees the child as it starts (to watch it from outside while it runs).
 */
export function runCommand(cmd: string, args: string[], timeoutMs: number, onSpawn?: (child: ChildProcess) => void): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function num(re: RegExp, text: string): number | undefined {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

function rpsOrThrow(tool: ToolName, result: CommandResult, rps: number | undefined): number {
  if (result.timedOut) throw new Error(`${tool} did not finish in time (killed)`);
  if (rps === undefined) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${tool} exited ${result.signal ?? result.code} without a req/s figure: ${tail}`);
  }
  return rps;
}

/**
 * ab: HTTP/1.0, a new connection per request (no -k). `-r` only keeps ab going past a socket receive error.
 * ab's "Length" failures are not errors here: PIDs can differ in digits, so body lengths differ.
 */
export async function runAb(url: string, o: { concurrency: number; requests: number; timeoutMs: number }): Promise<ToolResult> {
  const result = await runCommand('ab', ['-q', '-r', '-c', String(o.concurrency), '-n', String(o.requests), url], o.timeoutMs);
  const text = result.stdout;
  const rps = rpsOrThrow('ab', result, num(/Requests per second:\s+([\d.]+)/, text));
  const breakdown = /\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/.exec(text);
  const socketErrors = breakdown ? Number(breakdown[1]) + Number(breakdown[2]) + Number(breakdown[4]) : 0;
  const non2xx = num(/Non-2xx responses:\s+(\d+)/, text) ?? 0;
  return { rps, completed: num(/Complete requests:\s+(\d+)/, text) ?? 0, errors: socketErrors + non2xx };
}

/** hey with -disable-keepalive: Go's client, `Connection: close`, a new connection per request. */
export async function runHey(url: string, o: { concurrency: number; requests: number; timeoutMs: number }): Promise<ToolResult> {
  const result = await runCommand('hey', ['-disable-keepalive', '-c', String(o.concurrency), '-n', String(o.requests), url], o.timeoutMs);
  const text = result.stdout;
  const rps = rpsOrThrow('hey', result, num(/Requests\/sec:\s+([\d.]+)/, text));
  let ok = 0;
  let bad = 0;
  for (const m of text.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)) {
    if (m[1]!.startsWith('2')) ok += Number(m[2]);
    else bad += Number(m[2]);
  }
  for (const m of (text.split('Error distribution:')[1] ?? '').matchAll(/\[(\d+)\]\s+\S/g)) bad += Number(m[1]);
  return { rps, completed: ok + bad, errors: bad };
}

/** wrk: keep-alive connections, a fixed duration; -t1 leaves the second core to the server. */
export async function runWrk(url: string, o: { threads: number; connections: number; durationS: number; timeoutMs: number; cpu?: number }): Promise<ToolResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, url];
  // cpu: wrk on that core alone (bench/lib/pinning.ts).
  const result = await (o.cpu === undefined ? runCommand('wrk', args, o.timeoutMs) : runCommand('taskset', ['-c', String(o.cpu), 'wrk', ...args], o.timeoutMs));
  const text = result.stdout;
  const rps = rpsOrThrow('wrk', result, num(/Requests\/sec:\s+([\d.]+)/, text));
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
  const non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/, text) ?? 0;
  return { rps, completed: num(/(\d+) requests in/, text) ?? 0, errors: socketErrors + non2xx };
}
