/**
 * How much CPU processes outside this bench used while a row ran. On a 2-core machine anything else running
 * (a build, a test suite, another benchmark) takes cores from the server or the generator and widens the
 * spread, so RESULTS.md says how quiet the machine was. Linux only (/proc); elsewhere it reports nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

interface ProcessTicks {
  ppid: number;
  /** utime + stime + cutime + cstime (with the children it has waited for). */
  ticks: number;
  /** utime + stime. */
  own: number;
}

export interface CpuSnapshot {
  at: number;
  processes: Map<number, ProcessTicks>;
  busy: number | null;
}

export interface ForeignCpu {
  coreSeconds: number;
  seconds: number;
  /** Of all cores, 0..1. */
  share: number;
}

function readProcesses(): Map<number, ProcessTicks> | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const out = new Map<number, ProcessTicks>();
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
      out.set(Number(name), { ppid: f[1]!, ticks: f[11]! + f[12]! + f[13]! + f[14]!, own: f[11]! + f[12]! });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return out;
}

function isUnder(pid: number, processes: Map<number, ProcessTicks>, root: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === root) return true;
    p = processes.get(p)?.ppid ?? 0;
  }
  return false;
}

/** Busy ticks of all CPUs since boot (/proc/stat: everything but idle and iowait). */
function systemBusyTicks(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    return user! + nice! + system! + irq! + softirq! + steal!;
  } catch {
    return null;
  }
}

export function snapshotCpu(): CpuSnapshot | null {
  const processes = readProcesses();
  return processes ? { at: performance.now(), processes, busy: systemBusyTicks() } : null;
}

/** CPU used since `snapshot` by processes that are not this one or its descendants. */
export function foreignCpuSince(snapshot: CpuSnapshot | null): ForeignCpu | null {
  if (!snapshot) return null;
  const now = readProcesses();
  if (!now) return null;
  const busy = systemBusyTicks();
  const root = process.pid;
  let foreignTicks = 0;
  let ourTicks = 0;
  for (const [pid, after] of now) {
    const before = snapshot.processes.get(pid);
    // Own time only: a parent's waited-for children would bring in CPU spent before the window.
    const used = before ? Math.max(0, after.own - before.own) : after.own;
    if (isUnder(pid, now, root)) ourTicks += used;
    else foreignTicks += used;
  }
  // Our children that ended inside the window (ab, hey, wrk, memory runs) were waited for by this process.
  const self = now.get(root);
  const selfBefore = snapshot.processes.get(root);
  if (self && selfBefore) ourTicks += self.ticks - self.own - (selfBefore.ticks - selfBefore.own);
  // The machine's busy time minus ours also catches processes that started and ended in the window.
  if (busy !== null && snapshot.busy !== null) foreignTicks = Math.max(foreignTicks, busy - snapshot.busy - ourTicks);
  const seconds = (performance.now() - snapshot.at) / 1000;
  const coreSeconds = Math.max(0, foreignTicks) / TICKS_PER_SECOND;
  return { coreSeconds, seconds, share: seconds > 0 ? coreSeconds / (seconds * os.availableParallelism()) : 0 };
}

/** CPU seconds used so far by `pid` and its live descendants (a server's primary and its workers). */
export function treeCpuSeconds(pid: number): number | null {
  const processes = readProcesses();
  if (!processes) return null;
  let ticks = 0;
  for (const [p, info] of processes) if (isUnder(p, processes, pid)) ticks += info.ticks;
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds of one process alone (its own user + system). */
export function processCpuSeconds(pid: number): number | null {
  const own = readProcesses()?.get(pid)?.own;
  return own === undefined ? null : own / TICKS_PER_SECOND;
}

/** CPU seconds of this process's children that have exited and been waited for (ab, hey, wrk runs). */
export function reapedChildrenCpuSeconds(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
