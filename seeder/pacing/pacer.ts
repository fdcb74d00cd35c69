import { FixedRate, checkRate, type Schedule } from './schedule.ts';

/**
 * Schedule-based pacing: event i is due at `t0 + offset(i)`, where a `Schedule` (fixed rate,
 * ramps, or a replay of the original gaps) gives the offset. Whoever drives the pacer sends
 * every event that is due when it wakes up ("what is due each tick"), so timer granularity
 * and short hiccups are caught up and the long-run rate stays exact — unlike a free-running
 * token bucket, whose error accumulates with every late wake-up.
 *
 * The pacer keeps a "schedule clock" that runs at `factor` × wall-clock speed:
 * - `pause()`/`resume()` (the broker blocked publishing, or the user paused) stop it, so the
 *   whole schedule moves forward by the paused time;
 * - when the sender falls behind by more than `maxLagMs` (the broker was slow to confirm and
 *   the window was full), the clock is set back so the next event is due now. The time given
 *   up is recorded in `forgivenMs`, so a report can say the rate was not held;
 * - `scale(k)` (halve/double while running) and `setRate(r)` change the speed from now on,
 *   without a jump.
 *
 * Pure: every method takes the current time, so it is tested with a fake clock.
 */
export interface PacerOptions {
  /** Events per second (a fixed-rate schedule); give this or `schedule`. */
  readonly rate?: number;
  readonly schedule?: Schedule;
  /** The time of event 0 (ms, any monotonic clock). */
  readonly start: number;
  /** How far behind schedule is still caught up; beyond it the schedule is re-based. Default 1000 ms. */
  readonly maxLagMs?: number;
}

export class Pacer {
  private schedule: Schedule;
  /** Wall time and schedule time at the last re-anchoring; the clock runs at `factor` since. */
  private anchorReal: number;
  private anchorSchedule = 0;
  private factor = 1;
  private readonly maxLagMs: number;
  private pausedAt: number | null = null;
  private lastNow: number;
  /** Total time the schedule was paused (ms). */
  pausedMs = 0;
  /** Total lag given up by re-basing after stalls (ms). */
  forgivenMs = 0;
  /** How many times the schedule was re-based after a stall. */
  stalls = 0;

  constructor(options: PacerOptions) {
    if (options.schedule) this.schedule = options.schedule;
    else if (options.rate !== undefined) this.schedule = new FixedRate(checkRate(options.rate));
    else throw new RangeError('a pacer needs a rate or a schedule');
    this.anchorReal = options.start;
    this.lastNow = options.start;
    this.maxLagMs = options.maxLagMs ?? 1000;
  }

  /** The target rate (events/s) at the last time the pacer was asked, including any live scaling. */
  get rate(): number {
    return this.schedule.rateAt(this.scheduleTime(this.lastNow)) * this.factor;
  }

  /** What the schedule is, for the live line and reports ("500 events/s ×2"). */
  get label(): string {
    return this.factor === 1 ? this.schedule.label : `${this.schedule.label} ×${round(this.factor)}`;
  }

  get paused(): boolean {
    return this.pausedAt !== null;
  }

  /** When event `index` is (or was) due, on the wall clock. Infinity while paused. */
  dueAt(index: number, occurredAtMicros?: number): number {
    if (this.pausedAt !== null) return Number.POSITIVE_INFINITY;
    return this.anchorReal + (this.schedule.offsetOf(index, occurredAtMicros) - this.anchorSchedule) / this.factor;
  }

  /**
   * How long to wait before event `index` may be sent: 0 when it is due now (or overdue).
   * Infinity while paused. Re-bases the schedule first when the sender lags too far behind.
   */
  delay(index: number, now: number, occurredAtMicros?: number): number {
    this.lastNow = now;
    if (this.pausedAt !== null) return Number.POSITIVE_INFINITY;
    const lag = now - this.dueAt(index, occurredAtMicros);
    if (lag > this.maxLagMs) {
      // Forgive the whole lag: catching it up would be a burst above the asked rate.
      this.anchor(now, this.schedule.offsetOf(index, occurredAtMicros));
      this.forgivenMs += lag;
      this.stalls++;
      return 0;
    }
    return lag >= 0 ? 0 : -lag;
  }

  /** How many events from `index` on are due by `now` (0 while paused). Fixed-rate and ramp schedules only. */
  dueCount(index: number, now: number): number {
    if (this.delay(index, now) > 0) return 0;
    let n = 1; // `index` itself is due (even right after a re-base, despite float rounding)
    while (this.dueAt(index + n) <= now) n++;
    return n;
  }

  /** How far behind schedule event `index` is at `now` (ms; negative when early). */
  lagMs(index: number, now: number, occurredAtMicros?: number): number {
    if (this.pausedAt !== null) return 0;
    return now - this.dueAt(index, occurredAtMicros);
  }

  /**
   * Starts the schedule over with event 0 due at `now` (nothing was sent yet): the time before
   * the first selected event (reading past unselected ones, checking the first part) is not
   * overdue, so it is not caught up in a burst.
   */
  restart(now: number): void {
    this.anchor(now, 0);
    if (this.pausedAt !== null) this.pausedAt = now;
    this.lastNow = now;
  }

  pause(now: number): void {
    if (this.pausedAt !== null) return;
    this.anchor(now, this.scheduleTime(now));
    this.pausedAt = now;
  }

  resume(now: number): void {
    if (this.pausedAt === null) return;
    const paused = Math.max(0, now - this.pausedAt);
    // The schedule clock stood still: re-anchor it at the same schedule time, later.
    this.anchorReal = now;
    this.pausedMs += paused;
    this.pausedAt = null;
  }

  /**
   * Changes to a fixed rate from event `index` on, without a jump: `index` keeps its due time
   * (or becomes due now, if that was earlier) and the events after it follow the new rate.
   * Ends any ramp or replay and any live scaling.
   */
  setRate(rate: number, index: number, now: number, occurredAtMicros?: number): void {
    checkRate(rate);
    const at = this.pausedAt ?? now;
    const due = Math.max(this.dueAtIgnoringPause(index, occurredAtMicros), at);
    const offset = this.scheduleTimeAt(due);
    this.anchor(due, offset);
    this.factor = 1;
    this.schedule = new FixedRate(rate, index, offset);
  }

  /** Multiplies the speed of the schedule (rate, ramp or replay) by `k` from now on. */
  scale(k: number, now: number): void {
    if (!Number.isFinite(k) || k <= 0) throw new RangeError(`a speed factor must be a positive number, got ${k}`);
    const at = this.pausedAt ?? now;
    this.anchor(at, this.scheduleTime(at));
    if (this.pausedAt !== null) this.pausedAt = at;
    this.factor *= k;
  }

  /** Schedule time (ms) at wall time `now`; frozen while paused. */
  scheduleTime(now: number): number {
    return this.scheduleTimeAt(this.pausedAt ?? now);
  }

  private scheduleTimeAt(t: number): number {
    return this.anchorSchedule + (t - this.anchorReal) * this.factor;
  }

  private dueAtIgnoringPause(index: number, occurredAtMicros?: number): number {
    return this.anchorReal + (this.schedule.offsetOf(index, occurredAtMicros) - this.anchorSchedule) / this.factor;
  }

  private anchor(real: number, schedule: number): void {
    this.anchorReal = real;
    this.anchorSchedule = schedule;
  }
}

function round(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
