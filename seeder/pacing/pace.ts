import { formatCount } from '../../common/progress.ts';
import type { EventEnvelope } from '../../common/protos.ts';
import type { Controllable, ControlCommand } from './control.ts';
import { formatMicros } from '../report/histogram.ts';
import type { OutgoingMessage } from '../broker/message.ts';
import { Meter } from '../report/meter.ts';
import type { ConfirmObserver } from '../broker/publisher.ts';
import { scheduleFor, type PaceOptions } from './pace-options.ts';
import { Pacer } from './pacer.ts';
import { FixedRate, toMicros } from './schedule.ts';
import { Selector, type Selection } from './select.ts';
import { sleep } from '../broker/link.ts';

export interface PaceRunOptions extends PaceOptions {
  readonly selection?: Selection;
  /** Add a `sent-at` header (epoch ms of the intended send time) so `seedline tap` can measure end-to-end latency. */
  readonly sentAtHeader?: boolean;
  /** Lag beyond which the schedule is re-based instead of caught up (ms, default 1000). */
  readonly maxLagMs?: number;
}

/** A pause of the schedule, for the run report (seconds since the start). */
export interface PauseRecord {
  readonly reason: 'broker-blocked' | 'control';
  readonly from: number;
  to?: number;
}

/**
 * Everything a seed run needs for pacing, selection and measurement, behind the few calls
 * the publishing loop makes: `select()` the batches, `delay()` before each event, `sent()`
 * right before publishing it (it says the intended send time), `observe()` the publisher once,
 * `pause()`/`resume()` on broker alarms.
 */
export class Pace implements Controllable {
  pacer: Pacer | null = null;
  readonly selector: Selector;
  readonly pauses: PauseRecord[] = [];
  readonly meter: Meter;
  /** Events sent, by type; the type of the last ones sent is counted in `runType`/`runCount` until it changes. */
  private readonly byType = new Map<string, number>();
  private runType = '';
  private runCount = 0;
  private start = performance.now();
  private begun = false;
  private pendingControl: ControlCommand | null = null;
  private readonly reasons = new Set<PauseRecord['reason']>();
  /** The event being sent: its index, occurred_at, and when it was due before any re-base. */
  private index = -1;
  private occurredAt: number | undefined;
  private due = 0;
  private sentCount = 0;
  /** Ends the sleep of a waitUntilDue() that is waiting out a pause (see resume()). */
  private wakeSleeper: (() => void) | null = null;

  constructor(private readonly options: PaceRunOptions = {}) {
    this.selector = new Selector(options.selection ?? {});
    this.meter = new Meter(this.start);
    scheduleFor(options); // refuse bad options before connecting
  }

  /** Starts the schedule (event 0 is due now) and the per-second sampling; returns the pacer (null when unpaced). */
  begin(now = performance.now()): Pacer | null {
    if (this.begun) return this.pacer;
    this.begun = true;
    this.start = now;
    this.meter.startAt(now);
    const schedule = scheduleFor(this.options);
    if (schedule) this.pacer = new Pacer({ schedule, start: now, maxLagMs: this.options.maxLagMs });
    this.meter.startSampling(() => this.view(performance.now()));
    if (this.pendingControl) this.control(this.pendingControl);
    return this.pacer;
  }

  select<T extends EventEnvelope>(batches: AsyncIterable<T[]>): AsyncIterable<T[]> {
    return this.selector.filter(batches);
  }

  /**
   * How long to wait before the next selected event may be sent (0 = now; Infinity while
   * paused). Index i of the schedule counts selected events, from 0 at `begin()`.
   */
  delay(event: Pick<EventEnvelope, 'occurred_at'>, now: number): number {
    const index = this.sentCount;
    if (index !== this.index) {
      // The clock starts at the first selected event, not when reading started.
      if (index === 0 && this.index === -1) this.pacer?.restart(now);
      this.index = index;
      this.occurredAt = this.options.speed !== undefined ? toMicros(event.occurred_at) : undefined;
      this.due = now;
    }
    if (this.reasons.size > 0 && !this.pacer) return Number.POSITIVE_INFINITY;
    if (!this.pacer) return 0;
    const due = this.pacer.dueAt(index, this.occurredAt);
    // The due time before a stall re-base is the honest start of this event's latency.
    if (Number.isFinite(due)) this.due = due;
    return this.pacer.delay(index, now, this.occurredAt);
  }

  /** Sleeps until the next event is due; false when the signal fired first. */
  async waitUntilDue(event: Pick<EventEnvelope, 'occurred_at'>, signal: AbortSignal | undefined): Promise<boolean> {
    let wait: number;
    while ((wait = this.delay(event, performance.now())) > 0) {
      await this.nap(Math.min(wait, 250), signal);
      if (signal?.aborted) return false;
    }
    return true;
  }

  /**
   * sleep(), but a resume ends it at once: the schedule restarts at the resume, so a sender
   * that slept on (up to 250 ms) would find that much of it overdue and send it in one burst.
   */
  private nap(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        if (this.wakeSleeper === wake) this.wakeSleeper = null;
        resolve();
      };
      this.wakeSleeper = wake;
      void sleep(ms, signal).then(wake);
    });
  }

  /**
   * Call right before publishing `message` (the event last asked about in `delay()`). Returns
   * its intended send time (ms, performance clock): where its confirm latency starts.
   */
  sent(message: OutgoingMessage): number {
    if (this.index !== this.sentCount) {
      // Not paced through delay(): it is due the moment it is sent.
      this.index = this.sentCount;
      this.due = performance.now();
    }
    if (this.options.sentAtHeader) {
      (message.options.headers ??= {})['sent-at'] = String(Math.round(performance.timeOrigin + this.due));
    }
    this.meter.sent();
    if (message.routingKey !== this.runType) this.flushType(message.routingKey);
    this.runCount++;
    this.sentCount++;
    return this.due;
  }

  /** Events sent, by type (each once), for the metrics endpoint. */
  get publishedByType(): ReadonlyMap<string, number> {
    this.flushType(this.runType);
    return this.byType;
  }

  private flushType(next: string): void {
    if (this.runCount > 0) this.byType.set(this.runType, (this.byType.get(this.runType) ?? 0) + this.runCount);
    this.runType = next;
    this.runCount = 0;
  }

  /** Ends the iteration once `--limit` events were selected (so the rest is not even read). */
  async *limit<T>(batches: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const batch of batches) {
      if (this.selector.full) return;
      yield batch;
    }
  }

  /** Measures the confirms of `publisher` (it reports each event's first ack with its intended send time, and each nack). */
  observe(publisher: { observer: ConfirmObserver | null }): this {
    publisher.observer = this.meter;
    return this;
  }

  pause(reason: PauseRecord['reason'], now = performance.now()): void {
    if (this.reasons.has(reason)) return;
    this.reasons.add(reason);
    this.pauses.push({ reason, from: this.seconds(now) });
    this.pacer?.pause(now);
  }

  resume(reason: PauseRecord['reason'], now = performance.now()): void {
    if (!this.reasons.delete(reason)) return;
    const open = this.pauses.findLast((p) => p.reason === reason && p.to === undefined);
    if (open) open.to = this.seconds(now);
    if (this.reasons.size === 0) {
      this.pacer?.resume(now);
      this.wakeSleeper?.();
    }
  }

  control(command: ControlCommand): string {
    if (!this.begun) {
      this.pendingControl = command;
      return 'will apply when publishing starts';
    }
    const now = performance.now();
    switch (command.kind) {
      case 'pause':
        this.pause('control', now);
        return 'paused';
      case 'resume':
        this.resume('control', now);
        return 'resumed';
      case 'rate':
        // From the next event on; an unpaced run gets a pacer whose first event is due now.
        if (this.pacer) this.pacer.setRate(command.rate, this.sentCount, now);
        else this.pacer = new Pacer({ schedule: new FixedRate(command.rate, this.sentCount, 0), start: now, maxLagMs: this.options.maxLagMs });
        return `rate set to ${formatCount(command.rate)} events/s`;
      case 'scale':
        if (!this.pacer) return 'nothing to scale: the run is unpaced (write a rate instead)';
        this.pacer.scale(command.factor, now);
        return `speed ×${command.factor}: now ${this.pacer.label}`;
    }
  }

  /** The pacer's view for the per-second samples and the live line. */
  view(now: number): { target?: number; lagMs: number; paused: boolean } {
    const paused = this.reasons.size > 0;
    if (!this.pacer) return { lagMs: 0, paused };
    return { target: paused ? 0 : this.pacer.rate, lagMs: paused ? 0 : now - this.due, paused };
  }

  /** The live part of the progress line: current vs target rate, latency, lag. */
  line(): string {
    const last = this.meter.seconds[this.meter.seconds.length - 1];
    if (!last) return '';
    const target = last.target === undefined ? '' : ` of ${formatCount(last.target)}/s`;
    const paused = last.paused ? ' · PAUSED' : '';
    return `now ${formatCount(last.confirmed)}/s${target} · p50 ${formatMicros(last.p50)} p99 ${formatMicros(last.p99)} · lag ${formatCount(last.lagMs)}ms${paused}`;
  }

  /** Stops sampling and closes the last (partial) second. */
  finish(now = performance.now()): void {
    this.meter.stop();
    if (this.begun) this.meter.sample(this.view(now), now);
    for (const p of this.pauses) p.to ??= this.seconds(now);
  }

  private seconds(now: number): number {
    return Math.round((now - this.start) / 100) / 10;
  }
}
