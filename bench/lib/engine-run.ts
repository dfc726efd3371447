/** One run of our load engine (the probe's), with a hard time limit and what it cost this process. */
import { runLoad, type LoadOptions } from '../../src/load/engine.js';
import { summarizeRoute } from '../../src/load/summary.js';

export interface EngineRun {
  rps: number;
  completed: number;
  errors: number;
  portBackoffs: number;
  /** CPU seconds this process (the generator) spent. */
  clientCpuS: number;
  p50: number;
}

export async function engineRun(url: string, options: Omit<LoadOptions, 'target' | 'timeoutMs' | 'retries'> & { limitMs: number }): Promise<EngineRun> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`engine run on ${options.path} did not finish within ${options.limitMs / 1000} s`));
    }, options.limitMs);
  });
  try {
    const recording = await Promise.race([runLoad({ ...options, target: new URL(url), timeoutMs: 10_000, retries: 0, signal: controller.signal }), limit]);
    const report = summarizeRoute(options.path, recording, null);
    return {
      rps: report.rps,
      completed: report.requests,
      errors: report.failed,
      portBackoffs: report.portBackoffs,
      clientCpuS: (recording.cpu.user + recording.cpu.system) / 1e6,
      p50: report.latencyMs.p50,
    };
  } finally {
    clearTimeout(timer);
  }
}
