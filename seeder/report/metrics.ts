/**
 * `seed --metrics-port`: the run's figures in Prometheus' text exposition format (version
 * 0.0.4). Written by hand: a dozen metrics need no client library, and they are read from
 * the counters the run keeps anyway, only when scraped — nothing is added per event.
 */
import type { HistogramJson } from './histogram.ts';
import type { Pace } from '../pacing/pace.ts';
import type { ConfirmPublisher } from '../broker/publisher.ts';
import type { RunState } from '../run-state.ts';
import type { QueueWatch } from '../backlog/watch.ts';

/** Upper bounds (seconds) of the confirm-latency histogram's buckets. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What a scrape reads: the run's live objects. */
export interface MetricsSource {
  readonly publisher: ConfirmPublisher;
  readonly pace: Pace;
  readonly run: RunState;
  /** The backlog watch, when seed runs one. */
  readonly watch?: QueueWatch;
}

type Labels = Readonly<Record<string, string>>;

class Exposition {
  private readonly lines: string[] = [];

  metric(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: ReadonlyArray<readonly [Labels, number]>): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.sample(name, labels, value);
  }

  sample(name: string, labels: Labels, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.lines.push(`${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export function renderMetrics({ publisher, pace, run, watch }: MetricsSource, now = performance.now()): string {
  const e = new Exposition();
  const info = run.info;
  const view = pace.view(now);
  const last = pace.meter.seconds[pace.meter.seconds.length - 1];
  const before = pace.meter.seconds[pace.meter.seconds.length - 2];
  const one = (v: number): Array<readonly [Labels, number]> => [[{}, v]];
  e.metric('seedline_seed_info', 'gauge', 'The seed run (always 1).', [[{ run_id: info.runId, exchange: info.exchange, events: info.events }, 1]]);
  e.metric('seedline_seed_events', 'gauge', 'Events in the data set.', one(info.total));
  e.metric('seedline_seed_position', 'gauge', 'Every event before this stream index is confirmed (where --resume continues).', one(publisher.safePosition));
  e.metric('seedline_seed_published_total', 'counter', 'Events published, each counted once however often it was sent, by type.', byType(pace.publishedByType));
  e.metric('seedline_seed_confirmed_total', 'counter', 'Events the broker confirmed (acked).', one(publisher.confirmed));
  e.metric('seedline_seed_nacked_total', 'counter', 'Nacks received (each nacked event is published again after a backoff).', one(publisher.nacked));
  e.metric('seedline_seed_republished_total', 'counter', 'Events published again after a lost connection (possible duplicates).', one(publisher.republished));
  e.metric('seedline_seed_returned_total', 'counter', 'Unroutable events the broker returned (no queue bound), by type.', byType(publisher.returned));
  e.metric('seedline_seed_reconnects_total', 'counter', 'Connections re-established.', one(run.link?.reconnects ?? 0));
  e.metric('seedline_seed_in_flight', 'gauge', 'Events published and not yet confirmed (and checkpointed).', one(publisher.inFlight));
  if (view.target !== undefined) e.metric('seedline_seed_target_rate', 'gauge', 'Events per second the schedule asks for now (0 while paused; absent when unpaced).', one(view.target));
  const achieved = last ? last.confirmed / Math.max(0.001, last.t - (before?.t ?? 0)) : 0;
  e.metric('seedline_seed_achieved_rate', 'gauge', 'Events confirmed per second over the last full second.', one(achieved));
  e.metric('seedline_seed_lag_seconds', 'gauge', 'How far the sender is behind the schedule.', one(Math.max(0, view.lagMs) / 1000));
  e.metric('seedline_seed_paused', 'gauge', '1 while the schedule is paused (broker alarm or control file).', one(view.paused ? 1 : 0));
  e.metric('seedline_seed_stalls_total', 'counter', 'Times the pacer gave up catching up after a stall.', one(pace.pacer?.stalls ?? 0));
  const lastSecond: Array<readonly [Labels, number]> = last && last.confirmed > 0 ? [[{ quantile: '0.5' }, last.p50 / 1e6], [{ quantile: '0.99' }, last.p99 / 1e6]] : [];
  e.metric('seedline_seed_confirm_latency_last_second_seconds', 'gauge', 'Confirm latency percentiles in the last full second, from the intended send time.', lastSecond);
  latencyHistogram(e, pace.meter.latency());
  if (watch) backlogGauges(e, watch);
  return e.text();
}

/**
 * The whole run's confirm latency (from the intended send time) as a cumulative Prometheus
 * histogram, so several partitioned seeders can be summed. Counts come from the HDR buckets:
 * a value is within ~1.6 % of the bound it is counted under.
 */
function latencyHistogram(e: Exposition, h: HistogramJson): void {
  const name = 'seedline_seed_confirm_latency_seconds';
  e.metric(name, 'histogram', 'Confirm latency from the intended send time, over the whole run.', []);
  let i = 0;
  let cumulative = 0;
  for (const le of LATENCY_BUCKETS) {
    const bound = le * 1e6;
    while (i < h.buckets.length && h.buckets[i]![0] <= bound) cumulative += h.buckets[i++]![1];
    e.sample(`${name}_bucket`, { le: String(le) }, cumulative);
  }
  e.sample(`${name}_bucket`, { le: '+Inf' }, h.count);
  e.sample(`${name}_sum`, {}, (h.mean * h.count) / 1e6);
  e.sample(`${name}_count`, {}, h.count);
}

/** The backlog watch's view of every watched queue (labelled by queue). */
function backlogGauges(e: Exposition, watch: QueueWatch): void {
  const queues = watch.summary();
  const per = (pick: (q: (typeof queues)[number]) => number): Array<readonly [Labels, number]> => queues.map((q) => [{ queue: q.queue }, pick(q)] as const);
  e.metric('seedline_queue_backlog', 'gauge', 'Messages ready in the queue at the last sample.', per((q) => q.end));
  e.metric('seedline_queue_backlog_peak', 'gauge', 'Highest backlog seen in the queue during the run.', per((q) => q.peak));
  e.metric('seedline_queue_backlog_growth', 'gauge', 'Growth of the backlog (messages/s, Theil-Sen slope over the watch window; negative: draining).', per((q) => q.growth));
  e.metric('seedline_queue_consumers', 'gauge', 'Consumers on the queue at the last sample.', per((q) => q.samples[q.samples.length - 1]?.consumers ?? 0));
}

function byType(counts: ReadonlyMap<string, number>): Array<readonly [Labels, number]> {
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([type, n]) => [{ type }, n] as const);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(Math.round(v * 1e6) / 1e6);
}
