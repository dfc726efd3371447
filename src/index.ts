/** The library API behind the CLI: the cluster, the load engine, the probe and compare runs, and renderers. */
export { startCluster, ClusterStartError, SchedulingPolicyError } from './cluster/primary.js';
export type { ClusterOptions, ClusterEvent, RunningCluster, SchedulingPolicy, StopResult, ReloadResult, WorkerInfo } from './cluster/primary.js';
export { createDemoServer } from './cluster/demo-server.js';
export { createRequestHandler } from './cluster/handler.js';
export { sumTo, parseN } from './cluster/sum.js';
export { runLoad } from './load/engine.js';
export type { LoadOptions, LoadProgress, LoadRecording } from './load/engine.js';
export { summarizeRoute } from './load/summary.js';
export type { RouteReport, WorkerReport } from './load/summary.js';
export { runProbe, probeExitCode } from './probe/run.js';
export type { ProbeOptions, ProbeResult } from './probe/run.js';
export type { LongLivedProbeOptions, LongLivedProbeResult } from './probe/long-lived-run.js';
export type { WsPoliciesResult } from './compare/ws-policies.js';
import type { WsPoliciesResult } from './compare/ws-policies.js';
export { runCompare } from './compare/runner.js';
export type { CompareOptions, CompareResult } from './compare/runner.js';
export { renderProbeReport, renderProbeJson } from './report/probe-report.js';
export { renderCompareReport, renderCompareJson } from './report/compare-report.js';
export { jainIndex, maxMinRatio, shares } from './statistics/fairness.js';
export type { PoliciesResult } from './compare/policies.js';
import type { CompareResult } from './compare/runner.js';
import type { PoliciesResult } from './compare/policies.js';
export type { BrowserResult } from './browser/experiment.js';
export type { BalancerLayer, FleetComparison, FleetDocument, FleetResult } from './fleet/fleet.js';
export type { BalancerStory } from './fleet/story.js';
export type { ClusterStatsDoc } from './cluster/counts/document.js';
export type { ServeLogEvent } from './cluster/serve-log.js';
export { runBrowserExperiment } from './browser/experiment.js';
export { runFleet, runFleets } from './fleet/fleet.js';
export { renderProbeHtml } from './report/html/probe-html.js';
export { renderFleetComparisonHtml, renderFleetHtml } from './report/html/fleet-html.js';
export { renderBrowserHtml } from './report/html/browser-html.js';
export { renderCompareHtml, renderPoliciesHtml } from './report/html/compare-html.js';

/**
 * What `compare --json` prints: a two-contender comparison, (--policies) one per scheduling policy, or
 * (--policies --ws) each policy's open-WebSocket balance after a worker died.
 */
export type CompareDocument = CompareResult | PoliciesResult | WsPoliciesResult;
