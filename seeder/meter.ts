import { Histogram, type HistogramJson } from './histogram.ts';

/** The part of amqplib's ConfirmChannel the meter wraps. */
export interface PublishingChannel {
  publish(exchange: string, routingKey: string, content: Buffer, options?: object, callback?: (err: unknown, ok?: unknown) => void): boolean;
}

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
 */
export class Meter {
  readonly overall = new Histogram();
  readonly seconds: SecondSample[] = [];
  private readonly current = new Histogram();
  /** Intended send time (ms, performance clock) of each published, unconfirmed message, by its options object. */
  private readonly intended = new WeakMap<object, number>();
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

  /**
   * Wraps the channel's `publish` so each message's own confirm callback also reaches the
   * meter: exact per message, whoever publishes it (first time, nack retry, or again after a
   * reconnect), without the publisher knowing about measurement.
   */
  attach(channel: PublishingChannel): void {
    const publish = channel.publish.bind(channel);
    channel.publish = (exchange, routingKey, content, options, callback) =>
      publish(exchange, routingKey, content, options, (err: unknown, ok?: unknown) => {
        if (options) this.settle(options, err);
        callback?.(err, ok);
      });
  }

  /** Registers a message about to be published, with its intended send time. */
  sent(options: object, intendedAt: number): void {
    if (!this.intended.has(options)) this.unsettled++;
    this.intended.set(options, intendedAt);
    this.published++;
  }

  get inFlight(): number {
    return this.unsettled;
  }

  private settle(options: object, err: unknown): void {
    const at = this.intended.get(options);
    if (at === undefined) return;
    if (err == null) {
      this.intended.delete(options);
      this.unsettled--;
      this.confirmed++;
      const us = Math.max(0, (performance.now() - at) * 1000);
      this.overall.record(us);
      this.current.record(us);
    } else if (err instanceof Error && err.message === 'message nacked') {
      // Retried by the publisher; the latency keeps counting from the intended time.
      this.nacked++;
    }
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
