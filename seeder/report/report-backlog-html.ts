import { formatCount, formatDuration } from '../../common/progress.ts';
import { formatRate, signed } from './format-rate.ts';
import { esc, lineChart, type Band } from './report-svg.ts';
import { describeBreach, type BacklogReport, type BacklogSample } from '../backlog/watch-report.ts';

/** Colours of the backlog charts' series (the page's own stylesheet knows only the rate charts'). */
/** A long run is drawn with at most this many points per queue. */
const MAX_POINTS = 1200;

export const BACKLOG_STYLE = `
.ready { stroke: #d1495b; } .unacked { stroke: #8a93a3; } circle.ready { fill: #d1495b; } circle.unacked { fill: #8a93a3; }
`;

/** The run report's backlog section: a table per queue and one chart per queue. */
export function backlogSection(b: BacklogReport, bands: readonly Band[] = []): string {
  const rows = b.queues.map((q) => [q.queue, formatCount(q.end), formatCount(q.peak), `${signed(q.growth)}/s ±${formatRate(q.growthSpread)}`]);
  const table =
    rows.length === 0
      ? '<p class="none">No queue was watched (none bound to the exchange, none named with --watch-queues).</p>'
      : `<table><thead><tr><th>queue</th><th>backlog at the end</th><th>peak</th><th>growth (last ${b.windowSeconds}s)</th></tr></thead><tbody>\n${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}\n</tbody></table>`;
  const notes = [`Sampled every ${formatDuration(b.intervalMs / 1000)} from ${b.source}. Time is counted from the start of the watch.`];
  if (b.breach) notes.push(`Stopped: ${describeBreach(b.breach)}.`);
  if (b.drain) notes.push(b.drain.drained ? `The backend caught up ${formatDuration(b.drain.seconds)} after the last confirm.` : `Not drained after ${formatDuration(b.drain.seconds)}.`);
  const charts = b.queues.map((q, i) => backlogChart(`backlog-chart-${i}`, q.queue, q.samples, bands)).join('\n');
  return `<section id="backlog"><h2>Queue backlog</h2>${table}\n<p class="note">${esc(notes.join(' '))}</p>\n${charts}</section>`;
}

/** One queue's messages ready (and unacked, when the management API gave them) over time. */
export function backlogChart(id: string, queue: string, samples: readonly BacklogSample[], bands: readonly Band[] = []): string {
  const points = thinByMax(samples, MAX_POINTS);
  const xMax = points.length > 0 ? points[points.length - 1]!.t : 1;
  const withUnacked = points.some((p) => p.unacked !== undefined);
  return lineChart({
    id,
    title: `${queue}: backlog (messages)`,
    xMax,
    formatX: (s) => (s < 60 ? `${Math.round(s)}s` : formatDuration(s)),
    formatY: (v) => (Number.isInteger(v) ? formatCount(v) : v.toFixed(1)),
    bands,
    series: [
      { cls: 'ready', label: `${queue} ready`, points: points.map((p) => [p.t, p.ready] as const), tip: (x, v) => `${x.toFixed(1)}s: ${formatCount(v)} ready` },
      ...(withUnacked ? [{ cls: 'unacked', label: 'unacked', dashed: true, points: points.map((p) => (p.unacked === undefined ? null : ([p.t, p.unacked] as const))) }] : []),
    ],
  });
}

/** At most `max` points; each kept point is the deepest of its group, so a peak is never hidden. */
function thinByMax(samples: readonly BacklogSample[], max: number): BacklogSample[] {
  const size = Math.max(1, Math.ceil(samples.length / max));
  const out: BacklogSample[] = [];
  for (let i = 0; i < samples.length; i += size) {
    const group = samples.slice(i, i + size);
    out.push(group.reduce((a, b) => (b.ready > a.ready ? b : a)));
  }
  return out;
}
