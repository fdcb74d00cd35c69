import { SeedlineError } from '../../common/errors.ts';
import { compactBefore, describeBreach, type BacklogReport, type BacklogSample, type Breach, type DrainResult, type QueueBacklog } from './watch-report.ts';
import { formatCount } from '../../common/progress.ts';
import { signed } from '../report/format-rate.ts';
import { sleep } from '../broker/link.ts';
import { globToRegex } from '../pacing/select.ts';
import { spreadOf, theilSen, type Slope } from './slope.ts';
import { ManagementApi, PassiveReader, defaultManagementUrl, type QueueReading } from './watch-source.ts';

/**
 * The backlog watch: while a replay runs, samples every queue bound to the exchange (and any
 * named with --watch-queues) about once a second and keeps, per queue, the backlog over time,
 * its peak and its growth (a Theil–Sen slope over the last window). Guards stop the run when a
 * queue's backlog or growth passes a limit. Read-only: see watch-source.ts.
 */
export interface WatchOptions {
  readonly url: string;
  readonly exchange: string;
  /** Default http://<AMQP host>:15672; credentials from it or from the AMQP URL, never printed. */
  readonly managementUrl?: string;
  /** More queues to watch: names, or globs (globs need the management API to list queues). */
  readonly queues?: readonly string[];
  readonly intervalMs?: number;
  /** Seconds of samples the growth is measured over. */
  readonly windowSeconds?: number;
  /** Stop when any queue's backlog (messages ready) exceeds this. */
  readonly maxBacklog?: number;
  /** Stop when any queue's backlog grows faster than this (messages/s, over the window). */
  readonly maxGrowth?: number;
  readonly log?: (line: string) => void;
}

export const DEFAULT_WATCH_INTERVAL_MS = 1000;
export const DEFAULT_WATCH_WINDOW_S = 30;
/** The growth guard waits for this many samples in its window: a slope of two points is noise. */
const MIN_GUARD_SAMPLES = 5;
/**
 * Samples kept per queue: past this, those older than the growth window are merged pairwise
 * (keeping the deeper one), so a run of days stays in bounded memory at coarser resolution.
 */
const MAX_SAMPLES = 4000;
/** The management API's queue list is asked for at most this often (it refreshes every 5 s anyway). */
const MANAGEMENT_EVERY_MS = 2000;

export class QueueWatch {
  readonly source: string;
  private readonly series = new Map<string, BacklogSample[]>();
  private readonly peaks = new Map<string, number>();
  private readonly controller = new AbortController();
  private readonly started = performance.now();
  private readonly startedAt = new Date().toISOString();
  private readonly intervalMs: number;
  private readonly windowSeconds: number;
  private loop: Promise<void> | null = null;
  private stopping = new AbortController();
  private managementReadings = new Map<string, QueueReading>();
  private managementAt = -Infinity;
  private drainResult: DrainResult | undefined;
  /** Samples are taken one at a time (the run loop and drain() share one AMQP channel). */
  private sampling: Promise<unknown> = Promise.resolve();
  breach: Breach | null = null;
  /** What is failing now, so an outage is reported once when it starts and once when it ends. */
  private readonly failing = new Set<'sample' | 'management'>();

  private constructor(
    private readonly options: WatchOptions,
    private readonly reader: PassiveReader,
    private readonly api: ManagementApi | null,
    source: string,
  ) {
    this.source = source;
    this.intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
    this.windowSeconds = options.windowSeconds ?? DEFAULT_WATCH_WINDOW_S;
  }

  /** Aborted when a guard trips: pass it (combined with Ctrl-C) to the run. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Connects, says which source it uses, takes a first sample and keeps sampling. */
  static async start(options: WatchOptions): Promise<QueueWatch> {
    checkLimits(options);
    const managementUrl = options.managementUrl ?? defaultManagementUrl(options.url);
    let api: ManagementApi | null = null;
    let why: string | null;
    try {
      api = new ManagementApi(managementUrl, options.url);
      why = await api.unavailable();
    } catch (err) {
      why = `--management-url is not a URL (${(err as Error).message})`;
    }
    if (why) api = null;
    const reader = await PassiveReader.open(options.url, options.exchange);
    const source = api ? `management API at ${api.where} (queues, rates) + AMQP passive declares (depth)` : `AMQP passive declares (depth, consumers; no rates): management API ${why}`;
    const watch = new QueueWatch(options, reader, api, source);
    await watch.sample();
    const names = [...watch.series.keys()];
    options.log?.(`watch: ${source}; ${names.length === 0 ? 'no queue to watch yet' : `watching ${names.join(', ')}`}`);
    if (!api && (options.queues ?? []).some(isGlob)) options.log?.('watch: --watch-queues globs need the management API to list queues; only exact names are watched');
    watch.loop = watch.run();
    return watch;
  }

  /** Seconds since the watch started. */
  now(): number {
    return (performance.now() - this.started) / 1000;
  }

  queueNames(): string[] {
    return [...this.series.keys()];
  }

  samplesOf(queue: string): readonly BacklogSample[] {
    return this.series.get(queue) ?? [];
  }

  /** Growth of each queue's backlog between two times (seconds since the start). */
  growthBetween(from: number, to = Infinity): Map<string, Slope> {
    const out = new Map<string, Slope>();
    for (const [queue, samples] of this.series) out.set(queue, theilSen(samples.filter((s) => s.t >= from && s.t <= to).map((s) => ({ t: s.t, v: s.ready }))));
    return out;
  }

  /** For the live progress line: the queue growing fastest (or the deepest), e.g. "backlog chat 1,204 +48/s". */
  line(): string {
    const worst = this.summary().sort((a, b) => b.growth - a.growth || b.end - a.end)[0];
    if (!worst) return '';
    return `backlog ${worst.queue} ${formatCount(worst.end)} ${signed(worst.growth)}/s`;
  }

  /** Per queue: backlog at the end, peak, growth over the last window. */
  summary(): QueueBacklog[] {
    return [...this.series].map(([queue, samples]) => {
      const slope = this.windowSlope(samples);
      return {
        queue,
        end: samples[samples.length - 1]?.ready ?? 0,
        peak: this.peaks.get(queue) ?? 0,
        growth: slope.slope,
        growthSpread: spreadOf(slope),
        samples,
      };
    });
  }

  report(): BacklogReport {
    return {
      source: this.source,
      startedAt: this.startedAt,
      intervalMs: this.intervalMs,
      windowSeconds: this.windowSeconds,
      queues: this.summary(),
      breach: this.breach,
      ...(this.drainResult ? { drain: this.drainResult } : {}),
    };
  }

  /**
   * Waits until every watched queue is empty or the timeout passes. Empty means nothing ready
   * and, when the management API gives it, nothing unacked (which it refreshes only every few
   * seconds: `readyOnly` skips that wait).
   */
  async drain(timeoutMs: number, signal?: AbortSignal, options: { readyOnly?: boolean } = {}): Promise<DrainResult> {
    const from = performance.now();
    let left: Record<string, number> = {};
    while (!signal?.aborted) {
      const readings = await this.sample();
      left = Object.fromEntries([...readings].map(([q, r]) => [q, r.ready + (options.readyOnly ? 0 : (r.unacked ?? 0))]).filter(([, n]) => (n as number) > 0));
      if (Object.keys(left).length === 0 || performance.now() - from >= timeoutMs) break;
      await sleep(Math.min(this.intervalMs, 500), signal);
    }
    this.drainResult = { drained: Object.keys(left).length === 0, seconds: (performance.now() - from) / 1000, left };
    return this.drainResult;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.reader.close();
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await sleep(this.intervalMs, this.stopping.signal);
      if (this.stopping.signal.aborted) break;
      await this.sample().then(
        () => this.recovered('sample', 'watch: sampling again'),
        (err: unknown) => this.failed('sample', `watch: a sample failed (${(err as Error).message}); trying again every second`),
      );
    }
  }

  private sample(): Promise<Map<string, QueueReading>> {
    const next = this.sampling.then(() => this.sampleNow());
    this.sampling = next.catch(() => undefined);
    return next;
  }

  /** One reading of every watched queue; appends the samples and checks the guards. */
  private async sampleNow(): Promise<Map<string, QueueReading>> {
    const names = new Set(this.series.keys());
    const exact = (this.options.queues ?? []).filter((q) => !isGlob(q));
    for (const q of exact) names.add(q);
    if (this.api && performance.now() - this.managementAt >= MANAGEMENT_EVERY_MS) {
      this.managementAt = performance.now();
      try {
        this.managementReadings = await this.api.queues();
        for (const q of await this.api.boundQueues(this.options.exchange).catch(() => [])) names.add(q);
        const globs = (this.options.queues ?? []).filter(isGlob).map((g) => new RegExp(`^${globToRegex(g)}$`));
        for (const q of this.managementReadings.keys()) if (globs.some((g) => g.test(q))) names.add(q);
        this.recovered('management', 'watch: the management API answers again');
      } catch (err) {
        this.failed('management', `watch: management API read failed (${(err as Error).message}); depth still comes from AMQP`);
      }
    }
    const t = this.now();
    const readings = new Map<string, QueueReading>();
    for (const queue of names) {
      const depth = await this.reader.read(queue);
      if (!depth) continue; // not (or no longer) there
      const m = this.managementReadings.get(queue);
      const reading: QueueReading = m ? { ...depth, unacked: m.unacked, publishRate: m.publishRate, ackRate: m.ackRate } : depth;
      readings.set(queue, reading);
      let samples = this.series.get(queue);
      if (!samples) this.series.set(queue, (samples = []));
      samples.push({ t, ready: reading.ready, consumers: reading.consumers, ...(m ? { unacked: m.unacked, ackRate: m.ackRate } : {}) });
      this.peaks.set(queue, Math.max(this.peaks.get(queue) ?? 0, reading.ready));
      if (samples.length > MAX_SAMPLES) compactBefore(samples, t - this.windowSeconds);
    }
    this.checkGuards(t);
    return readings;
  }

  private failed(what: 'sample' | 'management', line: string): void {
    if (!this.failing.has(what)) this.options.log?.(line);
    this.failing.add(what);
  }

  private recovered(what: 'sample' | 'management', line: string): void {
    if (this.failing.delete(what)) this.options.log?.(line);
  }

  private windowSlope(samples: readonly BacklogSample[]): Slope {
    const from = (samples[samples.length - 1]?.t ?? 0) - this.windowSeconds;
    let i = samples.length;
    while (i > 0 && samples[i - 1]!.t >= from) i--;
    return theilSen(samples.slice(i).map((s) => ({ t: s.t, v: s.ready })));
  }

  private checkGuards(t: number): void {
    if (this.breach) return;
    const { maxBacklog, maxGrowth } = this.options;
    for (const [queue, samples] of this.series) {
      const last = samples[samples.length - 1];
      if (!last || last.t !== t) continue;
      if (maxBacklog !== undefined && last.ready > maxBacklog) {
        this.trip({ queue, kind: 'backlog', value: last.ready, limit: maxBacklog, t, at: new Date().toISOString() });
        return;
      }
      if (maxGrowth !== undefined) {
        const slope = this.windowSlope(samples);
        if (slope.n >= MIN_GUARD_SAMPLES && slope.slope > maxGrowth) {
          this.trip({ queue, kind: 'growth', value: slope.slope, limit: maxGrowth, t, at: new Date().toISOString() });
          return;
        }
      }
    }
  }

  private trip(breach: Breach): void {
    this.breach = breach;
    this.options.log?.(`watch: ${describeBreach(breach)}; stopping the run`);
    this.controller.abort(new Error(describeBreach(breach)));
  }
}

function isGlob(name: string): boolean {
  return /[*?]/.test(name);
}

function checkLimits(o: WatchOptions): void {
  for (const [option, v] of [['--max-backlog', o.maxBacklog], ['--max-backlog-growth', o.maxGrowth]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new SeedlineError('USAGE', `${option} must be a number ≥ 0, got ${v}`, { option });
  }
}
