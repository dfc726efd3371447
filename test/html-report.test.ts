/**
 * The HTML reports' renderers, fed fixed results (test/fixtures/results/*.json, recorded from real runs): bars
 * proportional to the counts, a waterfall whose bars sit at the timings, every text escaped, nothing remote.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BrowserResult } from '../src/browser/experiment.js';
import type { CompareResult } from '../src/compare/runner.js';
import type { FleetComparison, FleetResult } from '../src/fleet/fleet.js';
import type { ProbeResult } from '../src/probe/run.js';
import { renderBrowserHtml, waterfallRows } from '../src/report/html/browser-html.js';
import { renderCompareHtml } from '../src/report/html/compare-html.js';
import type { ReportContext } from '../src/report/html/page.js';
import { renderFleetComparisonHtml, renderFleetHtml } from '../src/report/html/fleet-html.js';
import { renderProbeHtml, timelineMarks, workerBars } from '../src/report/html/probe-html.js';
import { BAR, barChart, esc, niceTicks, WATERFALL, waterfall } from '../src/report/html/svg.js';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/results/${name}.json`, import.meta.url), 'utf8')) as T;
}

const context: ReportContext = { command: 'cluster-demo probe --report r.html', generatedAt: '2026-11-26T01:00:00.000Z', node: 'v24.21.0', cores: 2 };

/** The width of every bar rect in an SVG string, in order. */
function rectWidths(svg: string, cls = ''): number[] {
  return [...svg.matchAll(new RegExp(`<rect ${cls}x="[\\d.]+" y="[\\d.]+" width="([\\d.]+)"`, 'g'))].map((m) => Number(m[1]));
}

describe('svg charts', () => {
  it('bars are as long as their values over the largest', () => {
    const plot = BAR.width - BAR.label - BAR.text;
    const svg = barChart([{ label: 'a', value: 100 }, { label: 'b', value: 50 }, { label: 'c', value: 25 }, { label: 'd', value: 0 }], 'test');
    expect(rectWidths(svg)).toEqual([plot, plot / 2, plot / 4, 0]);
    expect(svg).toContain('>100</text>');
  });

  it('a waterfall puts each bar at its times', () => {
    const rows = [
      { label: 'tab 1', askedMs: 0, sentMs: 10, headersMs: 400, doneMs: 500, connection: 65, text: 'PID 1', title: 't1' },
      { label: 'tab 2', askedMs: 2, sentMs: 500, headersMs: 900, doneMs: 1000, connection: 65, text: 'PID 1', title: 't2' },
    ];
    const svg = waterfall(rows, 'test');
    // The axis ends at a round 1000 ms here: x = label + ms / 1000 × plot.
    const plot = WATERFALL.width - WATERFALL.label - WATERFALL.right;
    const x = (ms: number) => WATERFALL.label + (ms / 1000) * plot;
    const waiting = [...svg.matchAll(/<rect class="waiting" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(waiting).toEqual([[x(10), x(400) - x(10)], [x(500), x(900) - x(500)]]);
    const queued = [...svg.matchAll(/<line class="queued" x1="([\d.]+)" x2="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(queued).toEqual([[x(0), x(10)], [x(2), x(500)]]);
  });

  it('axis steps are round', () => {
    expect(niceTicks(95)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(6.2, 6)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(0)).toEqual([0]);
  });

  it('escapes the five characters that could start markup', () => {
    expect(esc(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});

describe('probe and fleet reports', () => {
  const probe = fixture<ProbeResult>('probe');

  it('one bar per worker, as long as its count; every PID and count is in the page as text', () => {
    const route = probe.routes[0]!;
    const rows = workerBars(route);
    expect(rows.map((r) => [r.label, r.value])).toEqual(route.workers.map((w) => [`PID ${w.pid}`, w.requests]));
    const html = renderProbeHtml(probe, context);
    for (const r of probe.routes) for (const w of r.workers) expect(html).toContain(`data-pid="${w.pid}" data-requests="${w.requests}"`);
  });

  it('under a balancer: each host above its workers', () => {
    const fleet = fixture<FleetResult>('fleet');
    const rows = workerBars(fleet.routes[0]!);
    expect(rows.filter((r) => r.heading).map((r) => r.label)).toEqual(['host-1', 'host-2']);
    expect(rows.length).toBe(2 + fleet.routes[0]!.workers.length);
    expect(renderFleetHtml(fleet, context)).toContain('2 hosts behind nginx');
  });

  it('--lb l4,l7: both balancers on one page, side by side, each verdict and the L4/L7 table with what was measured', () => {
    const comparison = fixture<FleetComparison>('fleet-l4-l7');
    const html = renderFleetComparisonHtml(comparison.balancers, context);
    expect(html).toContain('Side by side: the same load through each balancer');
    for (const b of comparison.balancers) expect(html).toContain(esc(b.story.verdict));
    // The measured column: L4's one kept connection met one host of two, L7's met both.
    expect(html).toContain('1 kept connection → 1 of 2 hosts, 1 of 4 workers');
    expect(html).toContain('1 kept connection → 2 of 2 hosts, 4 of 4 workers');
    expect(html).toContain('L4: 2 hosts behind nginx 1.22.1 (L4, stream proxy)');
    expect(html).toContain('L7: 2 hosts behind nginx 1.22.1 (L7, http proxy)');
  });

  it('chaos deaths and replacements are marked where they happened on the route\'s time axis', () => {
    const chaos = fixture<ProbeResult>('probe-chaos');
    const route = chaos.routes[0]!;
    const marks = timelineMarks(chaos, route);
    const deaths = chaos.chaos!.deaths;
    expect(marks.filter((m) => m.kind === 'death').map((m) => m.atMs)).toEqual(deaths.map((d) => chaos.startedAt - route.timeline.startedAt + d.atMs));
    expect(marks.filter((m) => m.kind === 'start')).toHaveLength(deaths.filter((d) => d.replacementMs !== null).length);
  });

  it('a hostile host name or URL cannot inject markup', () => {
    const evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>';
    const hostile: ProbeResult = { ...probe, target: `http://127.0.0.1:1/${evil}`, routes: probe.routes.map((r) => ({ ...r, path: `/pid${evil}`, workers: r.workers.map((w) => ({ ...w, host: evil })), hosts: r.hosts.map((h) => ({ ...h, host: evil })) })) };
    const html = renderProbeHtml(hostile, { ...context, command: `cluster-demo probe --url ${evil}` });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('browser and compare reports', () => {
  it('a waterfall row per request, at its DevTools times', () => {
    const browser = fixture<BrowserResult>('browser');
    const same = browser.scenarios[0]!;
    const rows = waterfallRows(same);
    expect(rows.map((r) => [r.sentMs, r.doneMs, r.connection])).toEqual(same.requests.map((r) => [r.startedMs, r.endedMs, r.connectionId]));
    expect(rows[1]!.askedMs).toBeCloseTo(same.requests[1]!.startedMs! - same.requests[1]!.queuedMs!, 6);
    expect(rows[0]!.text).toBe(`PID ${same.requests[0]!.pid} · conn ${same.requests[0]!.connectionId}`);
    const html = renderBrowserHtml(browser, context);
    for (const s of browser.scenarios) expect(html).toContain(s.verdict.replace(/'/g, '&#39;'));
  });

  it('compare: a whisker per contender, the limit line on the heavy workload', () => {
    const compare = fixture<CompareResult>('compare');
    const html = renderCompareHtml(compare, context);
    const heavy = compare.workloads.find((w) => w.name === 'heavy')!;
    expect(html).toContain(`limit: ${Math.min(compare.workers, compare.cores)} × one process`);
    expect(html).toContain(`${Math.round(heavy.b.rps).toLocaleString('en-US')} req/s`);
  });

  it('nothing remote: no script, style sheet, font or image from the network', () => {
    for (const html of [renderProbeHtml(fixture('probe'), context), renderBrowserHtml(fixture('browser'), context), renderCompareHtml(fixture('compare'), context), renderFleetHtml(fixture('fleet'), context)]) {
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
      expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
      expect(html).not.toMatch(/<script/i);
    }
  });
});
