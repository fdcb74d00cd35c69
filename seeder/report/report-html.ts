import { formatCount, formatDuration } from '../../common/progress.ts';
import { formatMicros } from './histogram.ts';
import { describeSelection } from '../pacing/select.ts';
import type { SecondSample } from './meter.ts';
import type { RunReport } from './report.ts';
import { esc, lineChart, type Band } from './report-svg.ts';
import { BACKLOG_STYLE, backlogSection } from './report-backlog-html.ts';

/** A long run is drawn with at most this many points per series (each then covers several seconds). */
export const MAX_POINTS = 1200;

/** One point of the charts: one second, or several merged. */
export interface ChartPoint {
  /** End of the interval, seconds since the start. */
  readonly t: number;
  readonly seconds: number;
  /** Confirmed events per second over the interval. */
  readonly achieved: number;
  readonly target: number | undefined;
  readonly confirmed: number;
  /** Median of the seconds' p50 and highest of their p99 (µs): merging never hides a bad second. */
  readonly p50: number;
  readonly p99: number;
}

/**
 * The per-second samples as chart points: `MAX_POINTS` at most, and a last partial second
 * shorter than half a second folded into the one before (its rate would be a spike of noise).
 */
export function chartPoints(samples: readonly SecondSample[], maxPoints = MAX_POINTS): ChartPoint[] {
  let n = samples.length;
  const lastShort = n >= 2 && samples[n - 1]!.t - samples[n - 2]!.t < 0.5;
  const groups: Array<[number, number]> = [];
  const size = Math.max(1, Math.ceil((lastShort ? n - 1 : n) / maxPoints));
  for (let i = 0; i < n; i += size) groups.push([i, Math.min(n, i + size)]);
  if (lastShort && groups.length >= 2 && groups[groups.length - 1]![1] - groups[groups.length - 1]![0] === 1) {
    groups.pop();
    groups[groups.length - 1]![1] = n;
  }
  return groups.map(([from, to]) => {
    const group = samples.slice(from, to);
    const before = from === 0 ? 0 : samples[from - 1]!.t;
    const end = group[group.length - 1]!.t;
    const seconds = Math.max(end - before, 1e-3);
    const confirmed = group.reduce((s, g) => s + g.confirmed, 0);
    const targets = group.map((g) => g.target).filter((v) => v !== undefined);
    const withConfirms = group.filter((g) => g.confirmed > 0);
    return {
      t: end,
      seconds,
      achieved: confirmed / seconds,
      target: targets.length === 0 ? undefined : targets.reduce((a, b) => a + b, 0) / targets.length,
      confirmed,
      p50: median(withConfirms.map((g) => g.p50)),
      p99: Math.max(0, ...withConfirms.map((g) => g.p99)),
    };
  });
}

/** The whole page: summary, the two charts, latency percentiles, returns, pauses. Self-contained. */
export function renderReportHtml(report: RunReport, source: string): string {
  const points = chartPoints(report.seconds);
  const xMax = points.length > 0 ? points[points.length - 1]!.t : 1;
  const perPoint = points.length > 0 && report.seconds.length > points.length ? Math.round(report.seconds.length / points.length) : 1;
  const bands = pauseBands(report);
  const paced = points.some((p) => p.target !== undefined);
  const rateChart = lineChart({
    id: 'rate-chart',
    title: 'Target vs achieved rate (events/s)',
    xMax,
    formatX: formatSeconds,
    formatY: (v) => formatCount(v),
    bands,
    series: [
      ...(paced ? [{ cls: 'target', label: 'target', dashed: true, points: points.map((p) => (p.target === undefined ? null : ([p.t, p.target] as const))), tip: (x: number, v: number) => `${formatSeconds(x)}: target ${formatCount(v)}/s` }] : []),
      { cls: 'achieved', label: 'achieved (confirmed/s)', points: points.map((p) => [p.t, p.achieved] as const), tip: (x, v) => `${formatSeconds(x)}: ${formatCount(v)} confirmed/s` },
    ],
  });
  const latencyPoint = (p: ChartPoint, v: number) => (p.confirmed > 0 ? ([p.t, v] as const) : null);
  const latencyChart = lineChart({
    id: 'latency-chart',
    title: 'Confirm latency from the intended send time (log scale)',
    xMax,
    formatX: formatSeconds,
    formatY: formatMicros,
    yScale: 'log',
    bands,
    series: [
      { cls: 'p50', label: 'p50', points: points.map((p) => latencyPoint(p, p.p50)), tip: (x, v) => `${formatSeconds(x)}: p50 ${formatMicros(v)}` },
      { cls: 'p99', label: 'p99', points: points.map((p) => latencyPoint(p, p.p99)), tip: (x, v) => `${formatSeconds(x)}: p99 ${formatMicros(v)}` },
    ],
  });
  const runId = report.result?.runId ?? 'run';
  const per = perPoint > 1 ? ` Each point covers ${perPoint} seconds (the p99 line shows the worst second of each).` : ' One point per second.';
  return `${pageHead(`seedline run report — ${runId}`, `${STYLE}${report.backlog ? BACKLOG_STYLE : ''}`)}
<body>
<h1>seedline seed — ${esc(runId)}</h1>
<p class="sub">${esc(headline(report))}</p>
<section id="summary"><h2>Summary</h2>${summaryTable(report)}</section>
<section id="rate"><h2>Target vs achieved rate</h2>${rateChart}
<p class="note">${paced ? 'Dashed: the rate the schedule asked for; solid: events the broker confirmed per second.' : 'Unpaced run (as fast as the broker confirms): no target line.'}${per} Shaded: pauses (broker alarm, reconnecting, control file).</p></section>
<section id="latency"><h2>Confirm latency per second</h2>${latencyChart}
<p class="note">Measured from each event's intended send time on the schedule, so a stalled broker shows up instead of being hidden. Seconds without confirms leave a gap.</p></section>
<section id="distribution"><h2>Latency over the whole run</h2>${latencyTable(report)}</section>
<section id="returned"><h2>Returned (unroutable) by type</h2>${returnedTable(report)}</section>
<section id="pauses"><h2>Pauses</h2>${pausesTable(report)}</section>
${report.backlog ? backlogSection(report.backlog) : ''}
<footer>From ${esc(source)} · written ${esc(report.writtenAt)} by seedline ${esc(report.tool.version)} · ${esc(report.format)}</footer>
</body>
</html>
`;
}

/** Doctype to </head> of a self-contained report page: no script, nothing fetched. */
export function pageHead(title: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${style}</style>
</head>`;
}

function headline(report: RunReport): string {
  const r = report.result;
  if (!r) return `schedule ${report.schedule} · the run failed before publishing`;
  return `${r.events} → exchange '${r.exchange}' at ${r.url} · schedule ${report.schedule} · ${status(report)}`;
}

function status(report: RunReport): string {
  const r = report.result!;
  if (r.interrupted) return `interrupted (confirmed through event ${formatCount(r.position)} of ${formatCount(r.total)})`;
  // Confirmed is not delivered: a run whose every event came back unroutable reached no queue.
  if (r.published > 0 && r.returnedTotal >= r.published) return `nothing routed: all ${formatCount(r.returnedTotal)} events came back unroutable (no queue bound)`;
  if (r.position >= r.total && r.unconfirmed === 0) return r.returnedTotal > 0 ? `complete, but ${formatCount(r.returnedTotal)} events came back unroutable` : 'complete';
  return `stopped at event ${formatCount(r.position)} of ${formatCount(r.total)}`;
}

function summaryTable(report: RunReport): string {
  const r = report.result;
  const rows: Array<[string, string]> = [];
  if (r) {
    rows.push(['events in the data set', formatCount(r.total)]);
    if (r.startPosition > 0) rows.push(['resumed from event', formatCount(r.startPosition)]);
    rows.push(['published', formatCount(r.published)], ['confirmed', formatCount(r.confirmed)], ['nacked', `${formatCount(r.nacked)} (${formatCount(r.retried)} retried)`]);
    if (r.unconfirmed > 0) rows.push(['unconfirmed', formatCount(r.unconfirmed)]);
    rows.push(['returned (unroutable)', formatCount(r.returnedTotal)]);
    rows.push(['reconnects', `${r.reconnects} (${formatDuration(r.reconnectingMs / 1000)} without a connection; ${formatCount(r.republished)} republished)`]);
    rows.push(['elapsed', formatDuration(r.elapsedMs / 1000)], ['achieved rate', `${formatCount(r.achievedRate)} events/s`]);
    rows.push(['target', r.targetRate === undefined ? report.schedule : `${formatCount(r.targetRate)} events/s`]);
    rows.push(['broker blocked', formatDuration(r.blockedMs / 1000)]);
  } else {
    rows.push(['published', formatCount(report.counts.published)], ['confirmed', formatCount(report.counts.confirmed)], ['nacked', formatCount(report.counts.nacked)]);
  }
  rows.push(['stalls', `${report.stalls} (${formatDuration(report.forgivenMs / 1000)} of schedule given up)`]);
  rows.push(['pauses', String((r?.pauses.length ?? 0) + report.controlPauses.length)]);
  rows.push(['confirm latency p50 / p99', `${formatMicros(report.latency.p50)} / ${formatMicros(report.latency.p99)}`]);
  if (Object.keys(report.selection).length > 0) rows.push(['selection', describeSelection(report.selection)]);
  return table(['', ''], rows, 'kv');
}

function latencyTable(report: RunReport): string {
  const l = report.latency;
  return table(
    ['count', 'min', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    [[formatCount(l.count), formatMicros(l.min), formatMicros(l.mean), formatMicros(l.p50), formatMicros(l.p90), formatMicros(l.p99), formatMicros(l.p999), formatMicros(l.max)]],
  );
}

function returnedTable(report: RunReport): string {
  const byType = Object.entries(report.result?.returned ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  if (byType.length === 0) return '<p class="none">None: every event was routed to a queue (or the run published nothing).</p>';
  return table(['type', 'returned'], byType.map(([type, n]) => [type, formatCount(n)]));
}

function pausesTable(report: RunReport): string {
  const rows: Array<[string, string, string, string]> = [];
  for (const p of report.result?.pauses ?? []) rows.push([p.kind, p.reason, formatSeconds(p.atMs / 1000), formatDuration(p.durationMs / 1000)]);
  for (const p of report.controlPauses) rows.push([p.reason, 'asked for', formatSeconds(p.from), formatDuration((p.to ?? p.from) - p.from)]);
  if (rows.length === 0) return '<p class="none">None.</p>';
  return table(['kind', 'reason', 'at', 'duration'], rows);
}

function pauseBands(report: RunReport): Band[] {
  const bands: Band[] = (report.result?.pauses ?? []).map((p) => ({ from: p.atMs / 1000, to: (p.atMs + p.durationMs) / 1000, label: `${p.kind}: ${p.reason}` }));
  for (const p of report.controlPauses) bands.push({ from: p.from, to: p.to ?? p.from, label: `${p.reason} pause` });
  return bands;
}

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, cls = ''): string {
  const th = head.some((h) => h !== '') ? `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` : '';
  const body = rows.map((row) => `<tr>${row.map((c, i) => (cls === 'kv' && i === 0 ? `<th>${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}>${th}<tbody>\n${body}\n</tbody></table>`;
}

/** Seconds since the start → "45s", "12m30s", "2h05m". */
function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s * 10) / 10}s`;
  return formatDuration(s);
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The report pages' stylesheet (the capacity page uses it too). */
export const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 960px; color: #1d2330; padding: 0 12px; }
h1 { font-size: 20px; margin-bottom: 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.sub, .note, footer { color: #5b6474; } .note { font-size: 12.5px; } footer { margin-top: 32px; font-size: 12px; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 3px 14px 3px 0; border-bottom: 1px solid #e4e7ec; }
td { font-variant-numeric: tabular-nums; } table.kv th { font-weight: 500; color: #5b6474; }
svg.chart { width: 100%; height: auto; background: #fbfcfd; border: 1px solid #e4e7ec; }
.grid { stroke: #e4e7ec; } .axis { stroke: #8a93a3; }
.tick { font-size: 11px; fill: #5b6474; } .tick.y { text-anchor: end; } .tick.x { text-anchor: middle; }
.legend text { font-size: 12px; fill: #1d2330; }
.series { stroke-width: 1.8; } path.series, line.series { fill: none; } .dashed { stroke-dasharray: 6 4; }
circle.point { stroke: none; fill-opacity: 0; } circle.point:hover { fill-opacity: 1; }
.target { stroke: #8a93a3; } .achieved { stroke: #2764c5; } .p50 { stroke: #2a9d5b; } .p99 { stroke: #d1495b; }
circle.target { fill: #8a93a3; } circle.achieved { fill: #2764c5; } circle.p50 { fill: #2a9d5b; } circle.p99 { fill: #d1495b; }
.band { fill: #f3c94b; fill-opacity: 0.25; }
`;
