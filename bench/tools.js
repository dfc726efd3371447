/**
 * The external load tools (ab, hey, wrk): finding them, running them with a hard time limit, and reading
 * their req/s and error counts from their own output. Every figure they report is from their own timing
 * (first connection to last response), so process start-up is not in it, as it is not in ours.
 */
import { spawn, spawnSync } from 'node:child_process';

export const INSTALL_HINT = 'apt-get install apache2-utils hey wrk';

/** Debian package per tool, for the skip message. */
export const PACKAGE_OF = { ab: 'apache2-utils', hey: 'hey', wrk: 'wrk' };

/** Children started here and not yet exited; killed on the way out whatever happens. */
export const liveChildren = new Set();

/** True when `name` is on PATH. */
export function haveTool(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** One line per tool: its version, for the machine section. */
export function toolVersions() {
  const first = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim()) ?? '';
  };
  const out = {};
  if (haveTool('ab')) out.ab = first('ab', ['-V']).replace(/^This is /, '').replace(/ <\$Revision\$>/, '').trim();
  if (haveTool('wrk')) out.wrk = first('wrk', ['-v']).replace(/ Copyright.*$/, '').trim();
  if (haveTool('hey')) {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'hey'], { encoding: 'utf8', timeout: 5000 });
    out.hey = r.status === 0 ? `hey ${r.stdout.trim()} (Debian)` : 'hey';
  }
  return out;
}

/**
 * Runs a command to completion, or SIGKILLs it after timeoutMs. Resolves with its output; never rejects
 * for a non-zero exit (the caller decides what a failed run means).
 */
export function runCommand(cmd, args, { timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
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

function num(re, text) {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

class ToolRunError extends Error {
  name = 'ToolRunError';
}

function check(tool, result, rps) {
  if (result.timedOut) throw new ToolRunError(`${tool} did not finish in time (killed)`);
  if (rps === undefined) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-3).join(' | ');
    throw new ToolRunError(`${tool} exited ${result.signal ?? result.code} without a req/s figure: ${tail}`);
  }
}

/**
 * ab: HTTP/1.0, a new connection per request (no -k). `-r` only keeps ab going past a socket receive error
 * instead of aborting the run; it does not change how requests are sent. ab's "Length" failures are not
 * errors here: ab flags every body whose length differs from the first one, and PIDs can differ in digits.
 */
export async function runAb(url, { concurrency, requests, timeoutMs }) {
  const result = await runCommand('ab', ['-q', '-r', '-c', String(concurrency), '-n', String(requests), url], { timeoutMs });
  const text = result.stdout;
  const rps = num(/Requests per second:\s+([\d.]+)/, text);
  check('ab', result, rps);
  const breakdown = /\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/.exec(text);
  const socketErrors = breakdown ? Number(breakdown[1]) + Number(breakdown[2]) + Number(breakdown[4]) : 0;
  const non2xx = num(/Non-2xx responses:\s+(\d+)/, text) ?? 0;
  return { rps, completed: num(/Complete requests:\s+(\d+)/, text) ?? 0, errors: socketErrors + non2xx };
}

/** hey with -disable-keepalive: Go's client, `Connection: close`, a new connection per request. */
export async function runHey(url, { concurrency, requests, timeoutMs }) {
  const result = await runCommand('hey', ['-disable-keepalive', '-c', String(concurrency), '-n', String(requests), url], { timeoutMs });
  const text = result.stdout;
  const rps = num(/Requests\/sec:\s+([\d.]+)/, text);
  check('hey', result, rps);
  let ok = 0;
  let bad = 0;
  for (const m of text.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)) {
    if (m[1].startsWith('2')) ok += Number(m[2]);
    else bad += Number(m[2]);
  }
  const errorSection = text.split('Error distribution:')[1] ?? '';
  for (const m of errorSection.matchAll(/\[(\d+)\]\s+\S/g)) bad += Number(m[1]);
  return { rps, completed: ok + bad, errors: bad };
}

/** wrk: keep-alive connections, a fixed duration; -t1 leaves the second core to the server. */
export async function runWrk(url, { threads, connections, durationS, timeoutMs }) {
  const result = await runCommand('wrk', [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, url], { timeoutMs });
  const text = result.stdout;
  const rps = num(/Requests\/sec:\s+([\d.]+)/, text);
  check('wrk', result, rps);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((s, v) => s + Number(v), 0) : 0;
  const non2xx = num(/Non-2xx or 3xx responses:\s+(\d+)/, text) ?? 0;
  return { rps, completed: num(/(\d+) requests in/, text) ?? 0, errors: socketErrors + non2xx };
}
