import type { Slope } from './slope.ts';

/**
 * The decisions of `seedline capacity`, apart from any broker: whether one step kept up, and
 * which rate to try next (multiply until a step falls behind, then bisect between the last
 * good and the first bad rate).
 */
export type Verdict = 'keeps-up' | 'falls-behind' | 'publisher-limit';

export interface QueueGrowth {
  readonly queue: string;
  /** Backlog growth over the step after its warm-up (messages/s) and half its interquartile range. */
  readonly growth: number;
  readonly spread: number;
  /** Samples the slope was computed from. */
  readonly n: number;
  readonly peak: number;
  /** The broker's ack rate on the queue during the step (management API only). */
  readonly consumedRate?: number;
}

export interface SearchOptions {
  readonly from: number;
  readonly to: number;
  /** Each step up multiplies the rate by this until one falls behind. */
  readonly factor: number;
  /** Bisection stops when (bad − good) / good is at most this. */
  readonly precision: number;
  /** A queue growing faster than this (messages/s) at a rate falls behind; default `growthLimit(rate)`. */
  readonly maxGrowth?: number;
  /** The publisher reached the rate if it achieved at least this fraction of it. */
  readonly reachedFraction: number;
}

export const DEFAULT_SEARCH: SearchOptions = { from: 100, to: 50_000, factor: 2, precision: 0.05, reachedFraction: 0.95 };

/** The growth a step may show and still keep up: 1 % of the rate, at least 1 message/s. */
export function growthLimit(rate: number, o: Pick<SearchOptions, 'maxGrowth'>): number {
  return o.maxGrowth ?? Math.max(1, 0.01 * rate);
}

/**
 * A step falls behind when some queue's backlog grows faster than the limit; if none does but
 * the publisher could not reach the rate, the broker (or seedline) is the limit, not the backend.
 */
export function verdictOf(rate: number, achieved: number, queues: readonly QueueGrowth[], o: SearchOptions): { verdict: Verdict; worst: QueueGrowth | null } {
  const worst = [...queues].sort((a, b) => b.growth - a.growth)[0] ?? null;
  if (worst && worst.growth > growthLimit(rate, o)) return { verdict: 'falls-behind', worst };
  if (achieved < o.reachedFraction * rate) return { verdict: 'publisher-limit', worst };
  return { verdict: 'keeps-up', worst };
}

export interface SearchState {
  /** Highest rate that kept up, lowest that fell behind. */
  good: number | null;
  bad: number | null;
  /** Set when the publisher could not reach a rate the backend kept up with: the search ends. */
  publisherLimit: number | null;
}

/** The next rate to try after a step, or null when the search is done. */
export function nextRate(state: SearchState, rate: number, verdict: Verdict, o: SearchOptions): number | null {
  if (verdict === 'publisher-limit') return null;
  if (verdict === 'keeps-up') state.good = Math.max(state.good ?? 0, rate);
  else state.bad = Math.min(state.bad ?? Infinity, rate);
  const { good, bad } = state;
  if (bad === null) return good! >= o.to ? null : Math.min(o.to, good! * o.factor);
  if (good === null) return bad / o.factor < 1 ? null : Math.round(bad / o.factor); // below --from: search down
  if ((bad - good) / good <= o.precision) return null;
  return Math.round((good + bad) / 2);
}

/** Half the interquartile range as the "±" of a slope. */
export function growthOf(queue: string, s: Slope, peak: number, consumedRate?: number): QueueGrowth {
  return { queue, growth: s.slope, spread: (s.high - s.low) / 2, n: s.n, peak, ...(consumedRate === undefined ? {} : { consumedRate }) };
}
