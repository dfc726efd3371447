/**
 * The PID in a body: pure and free of Node's APIs, so the load engine and the dashboard's browser script
 * (src/dashboard/) read it alike.
 */

/** The PID in a seed-style body: `Which PID handled this process: 54322`, `… at pid: 54323`, or JSON `"pid":1`. */
export function pidFromBody(body: string): number | undefined {
  const match = /PID handled this process:\s*(\d+)/i.exec(body) ?? /\bat pid:\s*(\d+)/i.exec(body) ?? /"pid"\s*:\s*(\d+)/.exec(body);
  return match ? Number(match[1]) : undefined;
}
