/** Which killed worker a failed request belongs to: pure, so it is tested with literal timelines. */

export interface Death {
  pid: number;
  /** When it was killed, ms on the same clock as the failures. */
  at: number;
}

export interface TimedFailure {
  startedAt: number;
  failedAt: number;
  cause: string;
}

/**
 * A failure is attributed to a death when the request was in flight at that moment (started before it, failed
 * at or after it, with `slackMs` for the kernel to deliver the reset). With several candidates the latest
 * death before the failure wins. Returns failures per PID and how many matched no death.
 */
export function attributeFailures(failures: readonly TimedFailure[], deaths: readonly Death[], slackMs = 50): { byPid: Map<number, number>; unattributed: number } {
  const byPid = new Map<number, number>();
  let unattributed = 0;
  const sorted = [...deaths].sort((a, b) => a.at - b.at);
  for (const failure of failures) {
    let match: Death | undefined;
    for (const death of sorted) {
      if (death.at > failure.failedAt + slackMs) break;
      if (death.at >= failure.startedAt - slackMs) match = death;
    }
    if (match) byPid.set(match.pid, (byPid.get(match.pid) ?? 0) + 1);
    else unattributed++;
  }
  return { byPid, unattributed };
}
