/**
 * Successful requests per PID, PIDs in ascending order, `null` (answered without a PID) last. Pure; used by the
 * browser experiment's analysis and by its reports.
 */
export function requestsPerPid(requests: ReadonlyArray<{ pid: number | null; error: string | null }>): Array<{ pid: number | null; requests: number }> {
  const counts = new Map<number | null, number>();
  for (const r of requests) if (r.error === null) counts.set(r.pid, (counts.get(r.pid) ?? 0) + 1);
  return [...counts].map(([pid, n]) => ({ pid, requests: n })).sort((a, b) => (a.pid ?? Infinity) - (b.pid ?? Infinity));
}
