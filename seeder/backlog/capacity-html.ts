import { formatCount } from '../../common/progress.ts';
import type { CapacityReport } from './capacity.ts';
import { BACKLOG_STYLE, backlogChart } from '../report/report-backlog-html.ts';
import { esc, lineChart, type Band } from '../report/report-svg.ts';
import { formatCapacity } from './capacity-summary.ts';
import { formatRate, signed } from '../report/format-rate.ts';
import { STYLE, pageHead } from '../report/report-html.ts';

/** The capacity search as a self-contained page: the answer, the steps, every queue's backlog with the steps shaded. */
export function renderCapacityHtml(r: CapacityReport, source: string): string {
  const bands: Band[] = r.steps.map((s) => ({ from: s.from, to: s.to, label: `${formatCount(s.rate)}/s: ${s.verdict}` }));
  const ordered = [...r.steps].sort((a, b) => a.rate - b.rate);
  const xMax = Math.max(1, ...ordered.map((s) => s.rate));
  const rateChart = lineChart({
    id: 'capacity-chart',
    title: 'Worst queue growth by rate (messages/s)',
    xMax,
    formatX: (x) => formatCount(x),
    formatY: (y) => formatRate(y),
    series: [
      { cls: 'growth', label: 'worst queue growth', points: ordered.map((s) => [s.rate, Math.max(0, s.worst?.growth ?? 0)] as const), tip: (x, y) => `${formatCount(x)}/s: +${formatRate(y)}/s` },
      { cls: 'limit', label: 'limit', dashed: true, points: ordered.map((s) => [s.rate, s.limit] as const) },
    ],
  });
  const rows = r.steps
    .map((s, i) => {
      const worst = s.worst ? `${s.worst.queue} ${signed(s.worst.growth)}/s ±${formatRate(s.worst.spread)}` : '–';
      const cells = [String(i + 1), `${formatCount(s.rate)}/s`, s.verdict, `${formatCount(s.achieved)}/s`, worst, `${formatRate(s.limit)}/s`, s.drained ? `${s.drainSeconds.toFixed(1)}s` : 'did not drain'];
      return `<tr class="${s.verdict}">${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  const charts = r.backlog.queues.map((q, i) => backlogChart(`backlog-chart-${i}`, q.queue, q.samples, bands)).join('\n');
  return `${pageHead(`seedline capacity — ${r.exchange}`, `${STYLE}${BACKLOG_STYLE}${CAPACITY_STYLE}`)}
<body>
<h1>seedline capacity — exchange '${esc(r.exchange)}'</h1>
<section id="answer"><h2>Answer</h2><pre>${esc(formatCapacity(r))}</pre></section>
<section id="steps"><h2>Steps</h2><table><thead><tr><th>#</th><th>rate</th><th>verdict</th><th>achieved</th><th>worst queue growth ± spread</th><th>limit</th><th>drain</th></tr></thead><tbody>
${rows}
</tbody></table>
<p class="note">Each rate was held ${r.holdSeconds}s; growth is the Theil–Sen slope of the queue's ready messages after the warm-up, ± half the interquartile range of the pairwise slopes. A step falls behind when some queue grows faster than the limit; "publisher-limit" means no queue grew but the publisher did not reach the rate.</p>
${rateChart}</section>
<section id="backlog"><h2>Queue backlog over the search</h2><p class="note">Shaded: the holds (hover for the rate and verdict); between them the queues drain. Sampled from ${esc(r.source)}.</p>
${charts}</section>
<footer>From ${esc(source)} · written ${esc(r.writtenAt)} by seedline ${esc(r.tool.version)} · ${esc(r.format)}</footer>
</body>
</html>
`;
}

const CAPACITY_STYLE = `
pre { background: #f3f5f8; padding: 10px; overflow-x: auto; font-size: 12.5px; }
tr.falls-behind td { color: #b3261e; } tr.publisher-limit td { color: #8a5a00; } svg.chart { margin-bottom: 8px; }
.growth { stroke: #d1495b; } circle.growth { fill: #d1495b; } .limit { stroke: #8a93a3; }
.band { fill: #2764c5; fill-opacity: 0.08; }
`;
