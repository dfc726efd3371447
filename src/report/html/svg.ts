/**
 * The charts of the HTML reports, as inline SVG strings: pure functions of their data, scales computed from the
 * data, every text escaped here, and every mark labelled in words or numbers as well as colour (readable
 * printed in black and white). `<title>` elements give native tooltips, no script needed.
 */

/** Text for HTML and SVG: the five characters that could start markup or end an attribute, escaped. */
export function esc(text: string | number): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Eight colours that stay apart for most colour vision, then repeated (labels tell the rest). */
export const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#0a7f86', '#bf3989', '#6e7781'] as const;

const FONT = 'font-family="system-ui, sans-serif" font-size="12"';
const num = (n: number) => Number(n.toFixed(2));

/** Round steps for an axis from 0 to about `max`: 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 1e-9; t += step) ticks.push(num(t));
  if (ticks[ticks.length - 1]! < max) ticks.push(num(ticks[ticks.length - 1]! + step));
  return ticks;
}

const fmt = (n: number) => (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(num(n)));

function svg(width: number, height: number, label: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(label)}" ${FONT}>${body}</svg>`;
}

export interface BarRow {
  label: string;
  value: number;
  /** Shown after the bar (default: the value). */
  text?: string;
  /** A heading row (e.g. a host above its workers): bold label, lighter bar. */
  heading?: boolean;
  title?: string;
  /** Extra attributes for the row's group, e.g. data-pid. */
  data?: Record<string, string | number>;
}

export const BAR = { width: 640, label: 190, row: 22, text: 90 } as const;

/** Horizontal bars, one per row, each as long as its value over the largest (scale from 0). */
export function barChart(rows: readonly BarRow[], label: string, width: number = BAR.width): string {
  const max = Math.max(0, ...rows.map((r) => r.value));
  const plot = width - BAR.label - BAR.text;
  const body = rows.map((r, i) => {
    const y = i * BAR.row;
    const length = max > 0 ? (r.value / max) * plot : 0;
    const data = Object.entries(r.data ?? {}).map(([k, v]) => ` data-${k}="${esc(v)}"`).join('');
    return (
      `<g class="bar"${data}><title>${esc(r.title ?? `${r.label}: ${fmt(r.value)}`)}</title>` +
      `<text x="${BAR.label - 8}" y="${y + 15}" text-anchor="end"${r.heading ? ' font-weight="bold"' : ''}>${esc(r.label)}</text>` +
      `<rect x="${BAR.label}" y="${y + 4}" width="${num(length)}" height="${BAR.row - 8}" fill="${r.heading ? '#8c959f' : PALETTE[0]}"/>` +
      `<text x="${num(BAR.label + length + 6)}" y="${y + 15}">${esc(r.text ?? fmt(r.value))}</text></g>`
    );
  });
  return svg(width, Math.max(1, rows.length) * BAR.row + 4, label, body.join(''));
}

export interface Whisker {
  label: string;
  /** The median. */
  value: number;
  min: number;
  max: number;
  text?: string;
}

/** Room for the text after a whisker (a median and its range). */
const WHISKER_TEXT = 170;

/** Median bars with min–max whiskers, and an optional limit line (e.g. one process × min(workers, cores)). */
export function whiskerChart(rows: readonly Whisker[], label: string, limit?: { value: number; label: string }, width: number = BAR.width): string {
  const top = Math.max(0, ...rows.map((r) => r.max), limit?.value ?? 0);
  const ticks = niceTicks(top);
  const scaleMax = ticks[ticks.length - 1]!;
  const plot = width - BAR.label - WHISKER_TEXT;
  const x = (v: number) => num(BAR.label + (scaleMax > 0 ? (v / scaleMax) * plot : 0));
  const height = rows.length * 28 + (limit ? 52 : 36);
  const body = rows.map((r, i) => {
    const y = i * 28 + 8;
    return (
      `<g class="whisker"><title>${esc(`${r.label}: median ${fmt(r.value)} (min ${fmt(r.min)}, max ${fmt(r.max)})`)}</title>` +
      `<text x="${BAR.label - 8}" y="${y + 14}" text-anchor="end">${esc(r.label)}</text>` +
      `<rect x="${BAR.label}" y="${y + 3}" width="${num(x(r.value) - BAR.label)}" height="16" fill="${PALETTE[i % PALETTE.length]}"/>` +
      `<line x1="${x(r.min)}" x2="${x(r.max)}" y1="${y + 11}" y2="${y + 11}" stroke="#1f2328" stroke-width="1.5"/>` +
      `<line x1="${x(r.min)}" x2="${x(r.min)}" y1="${y + 5}" y2="${y + 17}" stroke="#1f2328"/><line x1="${x(r.max)}" x2="${x(r.max)}" y1="${y + 5}" y2="${y + 17}" stroke="#1f2328"/>` +
      `<text x="${num(Math.max(x(r.max), x(r.value)) + 6)}" y="${y + 14}">${esc(r.text ?? fmt(r.value))}</text></g>`
    );
  });
  const axisY = rows.length * 28 + 12;
  const axis = ticks.map((t) => `<line x1="${x(t)}" x2="${x(t)}" y1="${axisY - 4}" y2="${axisY}" stroke="#8c959f"/><text x="${x(t)}" y="${axisY + 14}" text-anchor="middle" fill="#59636e">${esc(fmt(t))}</text>`);
  const limitLine = limit
    ? `<g class="limit"><title>${esc(limit.label)}</title><line x1="${x(limit.value)}" x2="${x(limit.value)}" y1="0" y2="${axisY + 18}" stroke="#cf222e" stroke-dasharray="5 3" stroke-width="1.5"/><text x="${x(limit.value) - 4}" y="${axisY + 32}" text-anchor="end" fill="#cf222e">${esc(limit.label)}</text></g>`
    : '';
  return svg(width, height, label, body.join('') + `<line x1="${BAR.label}" x2="${BAR.label + plot}" y1="${axisY}" y2="${axisY}" stroke="#8c959f"/>` + axis.join('') + limitLine);
}

export interface Series {
  name: string;
  /** Values per bucket (e.g. responses per second). */
  values: readonly number[];
  /** The bucket of values[0] (a worker forked during the run starts later). Default 0. */
  offset?: number;
}

export interface Mark {
  /** ms from the chart's time zero. */
  atMs: number;
  label: string;
  kind: 'death' | 'start' | 'reload';
}

export const LINE = { width: 640, height: 220, left: 52, right: 120, top: 10, bottom: 30 } as const;

/** One line per series over time (x: seconds from zero), vertical marks for events; a legend on the right. */
export function lineChart(series: readonly Series[], bucketMs: number, marks: readonly Mark[], label: string, yLabel: string): string {
  const { width, height, left, right, top, bottom } = LINE;
  const buckets = Math.max(1, ...series.map((s) => (s.offset ?? 0) + s.values.length));
  const durationMs = buckets * bucketMs;
  const yTicks = niceTicks(Math.max(0, ...series.flatMap((s) => s.values)));
  const yMax = yTicks[yTicks.length - 1]! || 1;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (ms: number) => num(left + (ms / durationMs) * plotW);
  const y = (v: number) => num(top + plotH - (v / yMax) * plotH);
  const parts: string[] = [];
  for (const t of yTicks) parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#d1d9e0"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" fill="#59636e">${esc(fmt(t))}</text>`);
  for (const t of niceTicks(durationMs / 1000, 6)) {
    if (t * 1000 > durationMs + 1) continue;
    parts.push(`<text x="${x(t * 1000)}" y="${height - 10}" text-anchor="middle" fill="#59636e">${esc(`${fmt(t)} s`)}</text>`);
  }
  parts.push(`<text x="12" y="${top + plotH / 2}" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle" fill="#59636e">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    // Each bucket's value at its middle; a dash pattern per series tells them apart without colour.
    const at = s.values.map((v, b) => [x((b + (s.offset ?? 0) + 0.5) * bucketMs), y(v)] as const);
    const dash = i % 3 === 1 ? ' stroke-dasharray="6 3"' : i % 3 === 2 ? ' stroke-dasharray="2 2"' : '';
    // Few points (a short run): a dot on each, so a single bucket still shows.
    const dots = at.length <= 40 ? at.map(([px, py]) => `<circle cx="${px}" cy="${py}" r="2.5" fill="${color}"/>`).join('') : '';
    parts.push(`<g class="series" data-name="${esc(s.name)}"><title>${esc(s.name)}</title><polyline points="${at.map(([px, py]) => `${px},${py}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash}/>${dots}</g>`);
    parts.push(`<g class="legend"><line x1="${left + plotW + 10}" x2="${left + plotW + 30}" y1="${top + 8 + i * 18}" y2="${top + 8 + i * 18}" stroke="${color}" stroke-width="2"${dash}/><text x="${left + plotW + 34}" y="${top + 12 + i * 18}">${esc(s.name)}</text></g>`);
  });
  for (const m of marks) {
    const color = m.kind === 'death' ? '#cf222e' : m.kind === 'reload' ? '#8250df' : '#1a7f37';
    const glyph = m.kind === 'death' ? '†' : m.kind === 'reload' ? '↻' : '+';
    parts.push(`<g class="mark" data-kind="${m.kind}"><title>${esc(`${(m.atMs / 1000).toFixed(2)} s: ${m.label}`)}</title><line x1="${x(m.atMs)}" x2="${x(m.atMs)}" y1="${top}" y2="${top + plotH}" stroke="${color}" stroke-dasharray="3 2"/><text x="${x(m.atMs)}" y="${top + 10}" text-anchor="middle" fill="${color}">${glyph}</text></g>`);
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#8c959f"/><line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#8c959f"/>`);
  return svg(width, height, label, parts.join(''));
}

export interface WaterfallRow {
  label: string;
  /** ms on one clock: asked for, sent, headers arrived, done (null where unknown). */
  askedMs: number;
  sentMs: number | null;
  headersMs: number | null;
  doneMs: number | null;
  /** Bars of one connection share a colour; the id is written on the bar as well. */
  connection: number | null;
  /** Written on the bar: the PID (and host) that answered. */
  text: string;
  title: string;
}

export const WATERFALL = { width: 720, label: 70, right: 30, row: 24, top: 6, axis: 26 } as const;

/**
 * One bar per request on a time axis: a thin line while it waited in the browser (asked → sent), a light bar
 * while the server worked (sent → headers), a solid one for the response (headers → done).
 */
export function waterfall(rows: readonly WaterfallRow[], label: string): string {
  const { width, label: labelW, right, row, top, axis } = WATERFALL;
  const end = Math.max(1, ...rows.flatMap((r) => [r.doneMs ?? 0, r.headersMs ?? 0, r.sentMs ?? 0, r.askedMs]));
  const ticks = niceTicks(end, 6);
  const scaleMax = ticks[ticks.length - 1]!;
  const plotW = width - labelW - right;
  const x = (ms: number) => num(labelW + (ms / scaleMax) * plotW);
  const connections = [...new Set(rows.flatMap((r) => (r.connection === null ? [] : [r.connection])))];
  const colorOf = (c: number | null) => (c === null ? '#8c959f' : PALETTE[connections.indexOf(c) % PALETTE.length]!);
  const parts = rows.map((r, i) => {
    const y = top + i * row;
    const color = colorOf(r.connection);
    const sent = r.sentMs ?? r.askedMs;
    const headers = r.headersMs ?? r.doneMs ?? sent;
    const done = r.doneMs ?? headers;
    return (
      `<g class="request" data-sent="${r.sentMs ?? ''}" data-done="${r.doneMs ?? ''}" data-connection="${r.connection ?? ''}"><title>${esc(r.title)}</title>` +
      `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>` +
      `<line class="queued" x1="${x(r.askedMs)}" x2="${x(sent)}" y1="${y + 11}" y2="${y + 11}" stroke="${color}" stroke-width="1.5" stroke-dasharray="2 2"/>` +
      `<rect class="waiting" x="${x(sent)}" y="${y + 4}" width="${num(Math.max(1, x(headers) - x(sent)))}" height="14" fill="${color}" fill-opacity="0.35" stroke="${color}"/>` +
      `<rect class="receiving" x="${x(headers)}" y="${y + 4}" width="${num(Math.max(1, x(done) - x(headers)))}" height="14" fill="${color}"/>` +
      `<text x="${num(x(sent) + 4)}" y="${y + 15}" fill="#1f2328">${esc(r.text)}</text></g>`
    );
  });
  const axisY = top + rows.length * row + 4;
  const axisParts = ticks.map((t) => `<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${axisY}" stroke="#d1d9e0"/><text x="${x(t)}" y="${axisY + 14}" text-anchor="middle" fill="#59636e">${esc(t >= 1000 ? `${num(t / 1000)} s` : `${fmt(t)} ms`)}</text>`);
  return svg(width, axisY + axis, label, axisParts.join('') + parts.join(''));
}
