import { Histogram, type HistogramJson } from './histogram.ts';
import type { ConfirmObserver } from '../broker/publisher.ts';

/** One second of a run, for the report's charts. */
export interface SecondSample {
  /** Seconds since the run started. */
  readonly t: number;
  /** Events/s the schedule asked for (absent when unpaced). */
  readonly target?: number;
  readonly published: number;
  readonly confirmed: number;
  readonly nacked: number;
  readonly inFlight: number;
  /** How far the sender was behind schedule (ms). */
  readonly lagMs: number;
  /** Confirm latency in that second (µs), from the intended send time. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly paused: boolean;
}

/**
 * Confirm latency measured from each event's INTENDED send time (its due time on the
 * schedule), not from the moment it finally went out: when the broker stalls and the window
 * is full, the waiting shows up in the latency instead of being silently omitted
 * ("coordinated omission").
 *
 * The publisher keeps each event's intended send time in its window and reports the event's
 * first ack (`onAck`) and every nack (`onNack`): whoever publishes it (first time, nack retry,
 * or again after a reconnect), the latency is counted once, from the intended time.
 */
export class Meter implements ConfirmObserver {
  readonly overall = new Histogram();
  readonly seconds: SecondSample[] = [];
  private readonly current = new Histogram();
  private unsettled = 0;
  published = 0;
  confirmed = 0;
  nacked = 0;
  private last = { published: 0, confirmed: 0, nacked: 0 };
  private timer: NodeJS.Timeout | null = null;

  constructor(private start: number) {}

  /** Seconds in the samples count from here (publishing starts after connecting). */
  startAt(now: number): void {
    this.start = now;
  }

  /** Counts an event being published (its intended send time travels with it in the publisher's window). */
  sent(): void {
    this.unsettled++;
    this.published++;
  }

  get inFlight(): number {
    return this.unsettled;
  }

  /** The broker acked an event (the first time) that was due at `intendedAt` (ms, performance clock). */
  onAck(intendedAt: number): void {
    this.unsettled--;
    this.confirmed++;
    const us = Math.max(0, (performance.now() - intendedAt) * 1000);
    this.overall.record(us);
    this.current.record(us);
  }

  /** A nack: the publisher retries; the latency keeps counting from the intended time. */
  onNack(): void {
    this.nacked++;
  }

  /** Starts sampling once a second; `probe` adds the pacer's view. */
  startSampling(probe: () => { target?: number; lagMs: number; paused: boolean }): void {
    this.timer = setInterval(() => this.sample(probe(), performance.now()), 1000);
    this.timer.unref();
  }

  /** Closes the current second (also called at the end of the run for the last partial one). */
  sample(view: { target?: number; lagMs: number; paused: boolean }, now: number): void {
    this.seconds.push({
      t: Math.round((now - this.start) / 100) / 10,
      ...(view.target === undefined ? {} : { target: Math.round(view.target * 100) / 100 }),
      published: this.published - this.last.published,
      confirmed: this.confirmed - this.last.confirmed,
      nacked: this.nacked - this.last.nacked,
      inFlight: this.inFlight,
      lagMs: Math.round(Math.max(0, view.lagMs)),
      p50: this.current.percentile(50),
      p99: this.current.percentile(99),
      max: this.current.max,
      paused: view.paused,
    });
    this.last = { published: this.published, confirmed: this.confirmed, nacked: this.nacked };
    this.current.reset();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  latency(): HistogramJson {
    return this.overall.toJSON();
  }
}
