/** The library API behind the CLI: the cluster, the load engine, the probe and compare runs, and renderers. */
export { startCluster, ClusterStartError, SchedulingPolicyError } from './server/primary.js';
export type { ClusterOptions, ClusterEvent, RunningCluster, SchedulingPolicy, StopResult, ReloadResult, WorkerInfo } from './server/primary.js';
export { createDemoServer } from './server/demo-server.js';
export { createRequestHandler } from './server/handler.js';
export { sumTo, parseN } from './server/sum.js';
export { runLoad } from './load/engine.js';
export type { LoadOptions, LoadProgress, LoadRecording } from './load/engine.js';
export { summarizeRoute } from './load/summary.js';
export type { RouteReport, WorkerReport } from './load/summary.js';
export { runProbe, probeExitCode } from './probe/run.js';
export type { ProbeOptions, ProbeResult } from './probe/run.js';
export { runCompare } from './compare/runner.js';
export type { CompareOptions, CompareResult } from './compare/runner.js';
export { renderProbeReport, renderProbeJson } from './report/probe-report.js';
export { renderCompareReport, renderCompareJson } from './report/compare-report.js';
export { jainIndex, maxMinRatio, shares } from './stats/fairness.js';
