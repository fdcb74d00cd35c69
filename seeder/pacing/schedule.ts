/**
 * Schedules say WHEN event i is due, as an offset in ms of "schedule time" from the start of
 * the run. The pacer maps schedule time onto the wall clock (pauses, stalls, live speed-ups),
 * so a schedule is pure arithmetic and is tested without any clock.
 *
 * `offsetOf` is called with non-decreasing indexes (the same index may be asked again); a
 * replay schedule relies on that to accumulate the original gaps one event at a time.
 */
export interface Schedule {
  offsetOf(index: number, occurredAtMicros?: number): number;
  /** Target events/s at schedule offset `offsetMs` (for the live line and reports). */
  rateAt(offsetMs: number): number;
  /** One line for humans: "500 events/s", "ramp 0→1,000/s in 1m0s, …", "replay ×100". */
  readonly label: string;
}

/** A constant rate; `fromIndex` is due at `fromOffset` (used when the rate is changed live). */
export class FixedRate implements Schedule {
  readonly label: string;
  private readonly msPerEvent: number;

  constructor(
    readonly rate: number,
    private readonly fromIndex = 0,
    private readonly fromOffset = 0,
  ) {
    this.msPerEvent = 1000 / checkRate(rate);
    this.label = `${rate} events/s`;
  }

  offsetOf(index: number): number {
    return this.fromOffset + (index - this.fromIndex) * this.msPerEvent;
  }

  rateAt(): number {
    return this.rate;
  }
}

/** One `--stages` step: ramp linearly to `rate` over `durationMs` (0 ms = jump to it). */
export interface Stage {
  readonly rate: number;
  readonly durationMs: number;
}

interface Segment {
  readonly startMs: number;
  /** Events due before the segment starts (fractional). */
  readonly startCount: number;
  /** Rates in events per ms at the start and end of the segment. */
  readonly from: number;
  readonly to: number;
  readonly durationMs: number;
}

/**
 * Linear ramps (`--stages 1000:60s,20000:5m`): the rate moves linearly from the previous
 * target (the start rate for the first stage) to each stage's target over its duration, then
 * holds the last target until the data set ends. Event i is due when the integral of the rate
 * reaches i, which is solved exactly per segment (a quadratic), so there is no drift.
 */
export class Stages implements Schedule {
  readonly label: string;
  private readonly segments: Segment[] = [];
  private readonly endMs: number;
  private readonly endCount: number;
  private readonly finalRate: number;
  private cursor = 0;

  constructor(stages: readonly Stage[], startRate = 0) {
    if (stages.length === 0) throw new RangeError('stages: at least one stage is needed');
    let t = 0;
    let n = 0;
    let from = startRate / 1000;
    for (const stage of stages) {
      const to = stage.rate / 1000;
      if (stage.durationMs > 0) {
        this.segments.push({ startMs: t, startCount: n, from, to, durationMs: stage.durationMs });
        n += ((from + to) / 2) * stage.durationMs;
        t += stage.durationMs;
      }
      from = to;
    }
    this.endMs = t;
    this.endCount = n;
    this.finalRate = checkRate(stages[stages.length - 1]!.rate) / 1000;
    this.label = `ramp ${[startRate, ...stages.map((s) => `${s.rate}/s in ${s.durationMs / 1000}s`)].join(' → ')}`;
  }

  offsetOf(index: number): number {
    if (index >= this.endCount) return this.endMs + (index - this.endCount) / this.finalRate;
    // Indexes only grow, so the segment cursor only moves forward (amortised O(1)).
    if (this.cursor >= this.segments.length || index < this.segments[this.cursor]!.startCount) this.cursor = 0;
    while (this.cursor + 1 < this.segments.length && index >= this.segments[this.cursor + 1]!.startCount) this.cursor++;
    const s = this.segments[this.cursor]!;
    const x = index - s.startCount;
    // Solve from·t + k·t² = x with k = (to − from) / (2·duration); the form below is stable
    // when k is tiny or negative (a ramp down) and avoids dividing by k.
    const k = (s.to - s.from) / (2 * s.durationMs);
    const root = Math.sqrt(Math.max(0, s.from * s.from + 4 * k * x));
    const t = s.from + root === 0 ? 0 : (2 * x) / (s.from + root);
    return s.startMs + Math.min(t, s.durationMs);
  }

  rateAt(offsetMs: number): number {
    if (offsetMs >= this.endMs) return this.finalRate * 1000;
    for (const s of this.segments) {
      if (offsetMs < s.startMs + s.durationMs) {
        const f = Math.max(0, offsetMs - s.startMs) / s.durationMs;
        return (s.from + (s.to - s.from) * f) * 1000;
      }
    }
    return this.finalRate * 1000;
  }
}

/**
 * `--speed K`: the original gaps between consecutive `occurred_at` values, divided by K;
 * `maxGapMs` caps any one wait (in replay time) so a quiet night does not stall the run.
 * Out-of-order timestamps add no wait (and are counted).
 */
export class ReplayTiming implements Schedule {
  readonly label: string;
  /** Events whose occurred_at was earlier than an event before them. */
  outOfOrder = 0;
  private lastIndex = -1;
  private offset = 0;
  private latestMicros = Number.NEGATIVE_INFINITY;
  /** Recent offsets, to report the rate the replay currently asks for. */
  private readonly recent: number[] = [];

  constructor(
    readonly speed: number,
    private readonly maxGapMs = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isFinite(speed) || speed <= 0) throw new RangeError(`speed must be a positive number, got ${speed}`);
    if (!(maxGapMs >= 0)) throw new RangeError(`max gap must be ≥ 0 ms, got ${maxGapMs}`);
    this.label = `replay ×${speed}${Number.isFinite(maxGapMs) ? ` (gaps capped at ${maxGapMs / 1000}s)` : ''}`;
  }

  offsetOf(index: number, occurredAtMicros?: number): number {
    if (index === this.lastIndex) return this.offset;
    if (occurredAtMicros === undefined || !Number.isFinite(occurredAtMicros)) {
      throw new RangeError(`replay: event ${index} has no occurred_at to schedule it by`);
    }
    if (this.lastIndex >= 0) {
      const gapMs = (occurredAtMicros - this.latestMicros) / 1000;
      if (gapMs < 0) this.outOfOrder++;
      else this.offset += Math.min(gapMs / this.speed, this.maxGapMs);
    }
    this.latestMicros = Math.max(this.latestMicros, occurredAtMicros);
    this.lastIndex = index;
    this.recent.push(this.offset);
    if (this.recent.length > 10_000) this.recent.splice(0, 5_000);
    return this.offset;
  }

  /** Events per second over the last second of schedule time before `offsetMs`. */
  rateAt(offsetMs: number): number {
    let n = 0;
    for (let i = this.recent.length - 1; i >= 0 && this.recent[i]! > offsetMs - 1000; i--) if (this.recent[i]! <= offsetMs) n++;
    return n;
  }
}

export function checkRate(rate: number): number {
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`rate must be a positive number of events/s, got ${rate}`);
  return rate;
}

/** occurred_at as decoded by protobufjs (Long, number, bigint or string) → µs as a number. */
export function toMicros(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  if (value && typeof (value as { toNumber?: unknown }).toNumber === 'function') return (value as { toNumber(): number }).toNumber();
  return Number.NaN;
}
