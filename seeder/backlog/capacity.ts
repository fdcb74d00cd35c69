import { SeedlineError } from '../../common/errors.ts';
import { formatCount } from '../../common/progress.ts';
import { DEFAULT_EXCHANGE, DEFAULT_URL } from '../broker/broker.ts';
import { DEFAULT_SEARCH, growthOf, nextRate, verdictOf, type QueueGrowth, type SearchOptions, type SearchState, type Verdict } from './capacity-search.ts';
import { Pace } from '../pacing/pace.ts';
import { seed } from '../seed.ts';
import { SeedFailure, type SeedResult } from '../summary.ts';
import { formatRate, signed } from '../report/format-rate.ts';
import { QueueWatch } from './watch.ts';
import type { BacklogReport } from './watch-report.ts';
import { eitherSignal } from './watch-seed.ts';

/**
 * `seedline capacity`: replays the events data set from its start (a contiguous, time-ordered
 * slice, so per-key order and references hold) at increasing rates, holds each rate, and
 * judges from the watched queues' backlog growth whether the backend keeps up; then bisects
 * between the last good and the first bad rate. Between steps it waits for the queues to drain.
 */
export interface CapacityOptions extends Partial<SearchOptions> {
  readonly events: string;
  readonly url?: string;
  readonly exchange?: string;
  readonly managementUrl?: string;
  /** More queues to watch (names or globs), as seed --watch-queues. */
  readonly watchQueues?: readonly string[];
  /** How long each rate is held (ms). */
  readonly holdMs?: number;
  /** The first part of each hold is not judged: the pacer starts and prefetch windows fill (ms). */
  readonly warmupMs?: number;
  /** Between steps, wait at most this long for the queues to empty (ms). */
  readonly drainTimeoutMs?: number;
  readonly maxSteps?: number;
  readonly maxInFlight?: number;
  readonly sampleIntervalMs?: number;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
}

export interface CapacityStep {
  readonly rate: number;
  /** Events confirmed per second during the hold. */
  readonly achieved: number;
  readonly published: number;
  readonly seconds: number;
  /** Times of the hold on the watch's clock (seconds), for the charts. */
  readonly from: number;
  readonly to: number;
  readonly verdict: Verdict;
  /** The growth limit this step was judged against (messages/s). */
  readonly limit: number;
  /** The fastest-growing queue, and every queue. */
  readonly worst: QueueGrowth | null;
  readonly queues: readonly QueueGrowth[];
  /** How long the queues took to drain after the step (s), and whether they did. */
  readonly drainSeconds: number;
  readonly drained: boolean;
}

export interface CapacityResult {
  readonly exchange: string;
  readonly events: string;
  readonly source: string;
  readonly holdSeconds: number;
  /** Highest rate a step kept up with (null: none did). */
  readonly sustained: number | null;
  /** Lowest rate a step fell behind at (null: none did, up to --to or the publisher limit). */
  readonly firstBad: number | null;
  /** The queue growing fastest at `firstBad`: the module that saturates first. */
  readonly saturating: QueueGrowth | null;
  /** Events/s the publisher achieved when it could not reach the asked rate (null: it always did). */
  readonly publisherLimit: number | null;
  readonly steps: readonly CapacityStep[];
  readonly interrupted: boolean;
  readonly backlog: BacklogReport;
}

export const CAPACITY_REPORT_FORMAT = 'seedline-capacity-report/1';

/** A capacity result as `capacity --report` saves it (the JSON beside the HTML page); here so the page renderer needs only this file's types. */
export interface CapacityReport extends CapacityResult {
  readonly format: typeof CAPACITY_REPORT_FORMAT;
  readonly tool: { readonly name: 'seedline'; readonly version: string };
  readonly writtenAt: string;
}

export const DEFAULT_HOLD_MS = 30_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 120_000;

export async function findCapacity(options: CapacityOptions): Promise<CapacityResult> {
  const o = { ...DEFAULT_SEARCH, ...definedOnly(options) } as SearchOptions;
  const url = options.url ?? DEFAULT_URL;
  const exchange = options.exchange ?? DEFAULT_EXCHANGE;
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const warmupMs = options.warmupMs ?? Math.min(5000, Math.max(1000, holdMs * 0.2));
  checkOptions(o, holdMs, warmupMs);
  const log = options.log ?? (() => undefined);
  const watch = await QueueWatch.start({ url, exchange, managementUrl: options.managementUrl, queues: options.watchQueues, intervalMs: options.sampleIntervalMs ?? 500, log });
  const steps: CapacityStep[] = [];
  const state: SearchState = { good: null, bad: null, publisherLimit: null };
  try {
    if (watch.queueNames().length === 0) {
      throw new SeedlineError('USAGE', `no queue to watch: none is bound to exchange '${exchange}' (or the management API is not reachable to list them), and --watch-queues names none`, {
        option: '--watch-queues',
        hint: 'start the backend (or seedline backend-sim) first, and name its queues with --watch-queues when the management API is off',
      });
    }
    let rate: number | null = o.from;
    while (rate !== null && steps.length < (options.maxSteps ?? 16) && !options.signal?.aborted) {
      const step = await runStep(rate, { ...options, url, exchange, holdMs, warmupMs }, watch, o);
      steps.push(step);
      log(describeStep(step));
      if (step.verdict === 'publisher-limit') state.publisherLimit = step.achieved;
      rate = nextRate(state, rate, step.verdict, o);
    }
  } finally {
    await watch.stop();
  }
  const firstBad = steps.filter((s) => s.verdict === 'falls-behind').sort((a, b) => a.rate - b.rate)[0] ?? null;
  return {
    exchange,
    events: options.events,
    source: watch.source,
    holdSeconds: holdMs / 1000,
    sustained: state.good,
    firstBad: firstBad?.rate ?? null,
    saturating: firstBad?.worst ?? null,
    publisherLimit: state.publisherLimit,
    steps,
    interrupted: options.signal?.aborted ?? false,
    backlog: watch.report(),
  };
}

/** Holds one rate: replays the data set from its start (again, if it ends) until the hold is over. */
async function runStep(rate: number, options: CapacityOptions & { url: string; exchange: string; holdMs: number; warmupMs: number }, watch: QueueWatch, o: SearchOptions): Promise<CapacityStep> {
  const from = watch.now();
  const started = performance.now();
  let published = 0;
  let confirmed = 0;
  let publishingMs = 0;
  let passes = 0;
  while (performance.now() - started < options.holdMs - 50 && !options.signal?.aborted) {
    const left = options.holdMs - (performance.now() - started);
    const hold = eitherSignal(options.signal ?? new AbortController().signal, undefined, left);
    const result = await seedPass(rate, options, hold.signal, ++passes).finally(hold.dispose);
    published += result.published;
    confirmed += result.confirmed;
    publishingMs += result.elapsedMs;
    if (result.published === 0) break; // nothing to send (an empty data set)
  }
  const seconds = (performance.now() - started) / 1000;
  const to = watch.now();
  const judged = from + options.warmupMs / 1000;
  const queues = [...watch.growthBetween(judged, to)].map(([queue, slope]) => {
    const samples = watch.samplesOf(queue).filter((s) => s.t >= judged && s.t <= to);
    const acks = samples.map((s) => s.ackRate).filter((v) => v !== undefined);
    return growthOf(queue, slope, Math.max(0, ...samples.map((s) => s.ready)), acks.length > 0 ? acks.reduce((a, b) => a + b, 0) / acks.length : undefined);
  });
  // Over the time spent publishing: connecting for each pass is not the publisher falling short.
  const achieved = confirmed / Math.max(publishingMs / 1000, 1e-3);
  const { verdict, worst } = verdictOf(rate, achieved, queues, o);
  const drain = options.signal?.aborted ? { drained: false, seconds: 0 } : await watch.drain(options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, options.signal, { readyOnly: true });
  if (!drain.drained && !options.signal?.aborted) options.log?.(`capacity: the queues did not drain within the timeout after the ${formatCount(rate)}/s step; the next step starts with a backlog`);
  return { rate, achieved, published, seconds, from, to, verdict, limit: o.maxGrowth ?? Math.max(1, 0.01 * rate), worst, queues, drainSeconds: drain.seconds, drained: drain.drained };
}

async function seedPass(rate: number, options: CapacityOptions & { url: string; exchange: string }, signal: AbortSignal, pass: number): Promise<SeedResult> {
  try {
    return await seed({
      events: options.events,
      url: options.url,
      exchange: options.exchange,
      rate,
      maxInFlight: options.maxInFlight,
      runId: `capacity-${Date.now().toString(36)}-${rate}-${pass}`,
      checkpoint: false,
      progress: 'off',
      signal,
      pace: new Pace({ rate }),
    });
  } catch (err) {
    // The hold ending interrupts the pass: its counts are the step's.
    if (err instanceof SeedFailure && err.code === 'INTERRUPTED') return err.result;
    throw err;
  }
}

/** "400/s: falls behind — app.chat +150/s ±3 (achieved 399/s)". */
export function describeStep(s: CapacityStep): string {
  const what = s.verdict === 'keeps-up' ? 'keeps up' : s.verdict === 'falls-behind' ? 'falls behind' : 'publisher could not reach the rate';
  const worst = s.worst ? ` — worst ${s.worst.queue} ${signed(s.worst.growth)}/s ±${formatRate(s.worst.spread)} (limit ${formatRate(s.limit)}/s)` : '';
  return `capacity: ${formatCount(s.rate)}/s: ${what}${worst}; achieved ${formatCount(s.achieved)}/s over ${s.seconds.toFixed(1)}s`;
}

function checkOptions(o: SearchOptions, holdMs: number, warmupMs: number): void {
  const fail = (option: string, what: string) => new SeedlineError('USAGE', `${option} ${what}`, { option });
  if (!(o.from > 0)) throw fail('--from', `must be a rate above 0 events/s, got ${o.from}`);
  if (!(o.to >= o.from)) throw fail('--to', `must be at least --from (${o.from}), got ${o.to}`);
  if (!(o.factor > 1)) throw fail('--factor', `must be above 1, got ${o.factor}`);
  if (!(o.precision > 0)) throw fail('--precision', `must be above 0, got ${o.precision}`);
  if (!(holdMs >= 2000)) throw fail('--hold', `must be at least 2s (the growth needs samples), got ${holdMs / 1000}s`);
  if (warmupMs >= holdMs) throw fail('--hold', `must be longer than the warm-up of ${warmupMs / 1000}s`);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
