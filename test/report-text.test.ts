/**
 * The terminal reports, fed fixed results (test/fixtures/results/*.json, recorded from real runs), colour off:
 * exact text out, compared with test/__snapshots__/report-text/*.txt. A change to a report's wording or layout
 * shows up here as a diff to review (update with `npx vitest run -u test/report-text.test.ts`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BrowserResult } from '../src/browser/experiment.js';
import type { PoliciesResult } from '../src/compare/policies.js';
import type { CompareResult } from '../src/compare/runner.js';
import type { FleetComparison, FleetResult } from '../src/fleet/fleet.js';
import type { ProbeResult } from '../src/probe/run.js';
import { renderBrowserReport } from '../src/report/browser-report.js';
import { renderCompareReport } from '../src/report/compare-report.js';
import { renderFleetComparison, renderFleetReport } from '../src/report/fleet-report.js';
import { renderPoliciesReport } from '../src/report/policies-report.js';
import { renderProbeReport } from '../src/report/probe-report.js';
import { makeChalk } from '../src/report/style.js';

const plain = makeChalk(false);

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/results/${name}.json`, import.meta.url), 'utf8')) as T;
}

const snapshot = (name: string) => `./__snapshots__/report-text/${name}.txt`;

describe('terminal reports from fixed results', () => {
  it('probe: two routes, every worker served', async () => {
    await expect(renderProbeReport(fixture<ProbeResult>('probe'), plain)).toMatchFileSnapshot(snapshot('probe'));
  });

  it('probe --chaos: deaths, replacements, the server\'s counts', async () => {
    await expect(renderProbeReport(fixture<ProbeResult>('probe-chaos'), plain)).toMatchFileSnapshot(snapshot('probe-chaos'));
  });

  it('compare single-vs-cluster', async () => {
    await expect(renderCompareReport(fixture<CompareResult>('compare'), plain)).toMatchFileSnapshot(snapshot('compare'));
  });

  it('compare --policies', async () => {
    await expect(renderPoliciesReport(fixture<PoliciesResult>('compare-policies'), plain)).toMatchFileSnapshot(snapshot('compare-policies'));
  });

  it('browser, HTTP/1.1', async () => {
    await expect(renderBrowserReport(fixture<BrowserResult>('browser'), plain)).toMatchFileSnapshot(snapshot('browser'));
  });

  it('fleet', async () => {
    await expect(renderFleetReport(fixture<FleetResult>('fleet'), plain)).toMatchFileSnapshot(snapshot('fleet'));
  });

  it('fleet --lb l4,l7: each balancer, side by side, the L4/L7 table', async () => {
    await expect(renderFleetComparison(fixture<FleetComparison>('fleet-l4-l7').balancers, plain)).toMatchFileSnapshot(snapshot('fleet-l4-l7'));
  });

  it('a generator share over 100% of a core says why it can be', () => {
    const probe = fixture<ProbeResult>('probe');
    const over = renderProbeReport({ ...probe, generator: { ...probe.generator, coreShare: 1.271 } }, plain);
    expect(over).toMatch(/127\.1% of one core \(over 100%: the CPU time of all its threads, garbage collector included\)/);
    expect(renderProbeReport(probe, plain)).not.toContain('over 100%');
  });

  it('no colour codes anywhere when colour is off', () => {
    expect(renderProbeReport(fixture<ProbeResult>('probe-chaos'), plain)).not.toMatch(/\x1b\[/);
  });
});
