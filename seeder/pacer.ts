/**
 * Schedule-based pacing: event i is due at `t0 + i / rate`. Whoever drives the pacer
 * sends every event that is due when it wakes up ("what is due each tick"), so timer
 * granularity and short hiccups are caught up and the long-run rate stays exact — unlike a
 * free-running token bucket, whose error accumulates with every late wake-up.
 *
 * Two things keep a stall from turning into a burst afterwards:
 * - `pause()`/`resume()` (the broker blocked publishing, or the user paused) move the whole
 *   schedule forward by the paused time;
 * - when the sender falls behind by more than `maxLagMs` (the broker was slow to confirm and
 *   the window was full), the schedule is re-based so the next event is due now. The time
 *   given up is recorded in `forgivenMs`, so a report can say the rate was not held.
 *
 * Pure: every method takes the current time, so it is tested with a fake clock.
 */
export interface PacerOptions {
  /** Events per second; must be > 0. */
  readonly rate: number;
  /** The time of event 0 (ms, any monotonic clock). */
  readonly start: number;
  /** How far behind schedule is still caught up; beyond it the schedule is re-based. Default 1000 ms. */
  readonly maxLagMs?: number;
}

export class Pacer {
  private t0: number;
  private msPerEvent: number;
  private readonly maxLagMs: number;
  private pausedAt: number | null = null;
  /** Total time the schedule was paused (ms). */
  pausedMs = 0;
  /** Total lag given up by re-basing after stalls (ms). */
  forgivenMs = 0;
  /** How many times the schedule was re-based after a stall. */
  stalls = 0;

  constructor(options: PacerOptions) {
    this.msPerEvent = 1000 / checkRate(options.rate);
    this.t0 = options.start;
    this.maxLagMs = options.maxLagMs ?? 1000;
  }

  get rate(): number {
    return 1000 / this.msPerEvent;
  }

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  /** When event `index` is (or was) due. */
  dueAt(index: number): number {
    return this.t0 + index * this.msPerEvent;
  }

  /**
   * How long to wait before event `index` may be sent: 0 when it is due now (or overdue).
   * Infinity while paused. Re-bases the schedule first when the sender lags too far behind.
   */
  delay(index: number, now: number): number {
    if (this.pausedAt !== null) return Infinity;
    const lag = now - this.dueAt(index);
    if (lag > this.maxLagMs) {
      // Forgive the whole lag: catching it up would be a burst above the asked rate.
      this.t0 += lag;
      this.forgivenMs += lag;
      this.stalls++;
      return 0;
    }
    return lag >= 0 ? 0 : -lag;
  }

  /** How many events from `index` on are due by `now` (0 while paused). */
  dueCount(index: number, now: number): number {
    if (this.delay(index, now) > 0) return 0;
    // At least 1: `index` itself is due (guards against float rounding right after a re-base).
    return Math.max(1, Math.floor((now - this.t0) / this.msPerEvent) + 1 - index);
  }

  /** How far behind schedule event `index` is at `now` (ms; negative when early). */
  lagMs(index: number, now: number): number {
    return now - this.dueAt(index);
  }

  pause(now: number): void {
    this.pausedAt ??= now;
  }

  resume(now: number): void {
    if (this.pausedAt === null) return;
    const paused = Math.max(0, now - this.pausedAt);
    this.t0 += paused;
    this.pausedMs += paused;
    this.pausedAt = null;
  }

  /**
   * Changes the rate from event `index` on, without a jump: `index` keeps its due time (or
   * becomes due now, if that was earlier) and the events after it follow the new rate.
   */
  setRate(rate: number, index: number, now: number): void {
    const anchor = Math.max(this.dueAt(index), now);
    this.msPerEvent = 1000 / checkRate(rate);
    this.t0 = anchor - index * this.msPerEvent;
  }
}

function checkRate(rate: number): number {
  if (!Number.isFinite(rate) || rate <= 0) throw new RangeError(`rate must be a positive number of events/s, got ${rate}`);
  return rate;
}
