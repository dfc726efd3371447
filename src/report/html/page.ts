/**
 * The shell of every HTML report: one self-contained file (no CDN, no web font, no remote image, no script
 * needed to read it), the run's facts, the verdicts as the terminal printed them, the charts, and the result
 * as JSON. Prints on A4 without cutting a chart. Pure.
 */
import { esc } from './svg.js';

/** What the command layer knows about the run, beyond its result. */
export interface ReportContext {
  /** The command line, e.g. `cluster-demo probe --chaos 500ms`. */
  command: string;
  /** ISO 8601, when the report was written. */
  generatedAt: string;
  node: string;
  cores: number;
}

export interface ReportSection {
  title: string;
  /** Trusted markup: built from escaped text and the charts of svg.ts. */
  html: string;
}

export interface ReportPage {
  title: string;
  context: ReportContext;
  /** Label and value of each fact shown under the title (target, policy, …). */
  facts: Array<[string, string]>;
  /** The verdicts, as the terminal printed them (plain text, one per line). */
  verdicts: Array<{ ok: boolean | null; text: string }>;
  sections: ReportSection[];
  /** The same numbers as --json. */
  json: unknown;
  /** The terminal report, without colour, for the record. */
  terminal: string;
}

const STYLE = `
  :root { color-scheme: light; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0 auto; max-width: 760px; padding: 20px; }
  h1 { font-size: 20px; margin: 0 0 6px; }
  h2 { font-size: 16px; margin: 22px 0 6px; border-bottom: 1px solid #d1d9e0; padding-bottom: 3px; }
  h3 { font-size: 14px; margin: 14px 0 4px; }
  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; color: #59636e; }
  dl.facts dt { font-weight: 600; }
  dl.facts dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; overflow-wrap: anywhere; }
  ul.verdicts { list-style: none; padding: 0; margin: 8px 0; }
  ul.verdicts li { padding: 3px 0 3px 22px; position: relative; }
  ul.verdicts li::before { position: absolute; left: 0; }
  ul.verdicts li.ok::before { content: "✓"; color: #1a7f37; }
  ul.verdicts li.bad::before { content: "✗"; color: #cf222e; }
  ul.verdicts li.info::before { content: "→"; color: #59636e; }
  figure { margin: 8px 0 14px; break-inside: avoid; page-break-inside: avoid; }
  figcaption { color: #59636e; font-size: 12px; margin-top: 2px; }
  svg { max-width: 100%; height: auto; display: block; }
  table.data { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; break-inside: avoid; }
  table.data th, table.data td { border-bottom: 1px solid #d1d9e0; padding: 3px 8px; text-align: left; }
  table.data td.n { text-align: right; font-variant-numeric: tabular-nums; }
  pre { font-size: 11px; background: #f6f8fa; padding: 8px; overflow: auto; white-space: pre-wrap; }
  details { margin: 8px 0; }
  footer { margin-top: 24px; color: #59636e; font-size: 12px; }
  @page { size: A4; margin: 14mm; }
  @media print {
    /* One or two A4 pages: smaller type, narrower charts, each verdict once (at the top), no raw data. */
    body { max-width: none; padding: 0; font-size: 10.5px; }
    h1 { font-size: 15px; }
    h2 { font-size: 12px; margin: 10px 0 3px; break-after: avoid; page-break-after: avoid; }
    dl.facts { margin: 4px 0; font-size: 10px; }
    ul.verdicts { margin: 4px 0; }
    ul.verdicts li { padding: 1px 0 1px 18px; }
    figure { margin: 3px 0 6px; }
    figure svg { width: 78%; }
    /* Two charts of a route side by side. */
    .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; align-items: start; }
    .pair figure svg { width: 100%; }
    figcaption, p.section-verdict, details, footer, .screen-only { display: none; }
    table.data { font-size: 10px; margin: 3px 0 6px; }
    table.data th, table.data td { padding: 1px 6px; }
  }
`;

function verdictClass(ok: boolean | null): string {
  return ok === null ? 'info' : ok ? 'ok' : 'bad';
}

/** JSON for a <pre>: escaped like any text. */
function jsonBlock(value: unknown): string {
  return esc(JSON.stringify(value, null, 2));
}

export function renderPage(page: ReportPage): string {
  const facts = [...page.facts, ['command', page.context.command], ['Node.js', page.context.node], ['cores', String(page.context.cores)], ['date', page.context.generatedAt]] as Array<[string, string]>;
  const sections = page.sections.map((s) => `<section><h2>${esc(s.title)}</h2>\n${s.html}</section>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(page.title)}</h1>
<dl class="facts">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<ul class="verdicts">${page.verdicts.map((v) => `<li class="${verdictClass(v.ok)}">${esc(v.text)}</li>`).join('')}</ul>
${sections}
<details><summary>The terminal report</summary><pre>${esc(page.terminal)}</pre></details>
<details><summary>The result as JSON (the same as --json)</summary><pre id="json">${jsonBlock(page.json)}</pre></details>
<footer>Written by cluster-demo. One file: it opens offline and needs no script; charts are inline SVG.</footer>
</body>
</html>
`;
}

/** A small table of trusted cells (escape the text before). */
export function dataTable(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((cell, i) => `<td${numeric[i] ? ' class="n"' : ''}>${cell}</td>`).join('')}</tr>`).join('');
  return `<table class="data"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

/** `screenOnly`: a chart whose numbers are also in a table beside it, left out of print to keep to two pages. */
export function figure(svgMarkup: string, caption: string, screenOnly = false): string {
  return `<figure${screenOnly ? ' class="screen-only"' : ''}>${svgMarkup}<figcaption>${esc(caption)}</figcaption></figure>`;
}
