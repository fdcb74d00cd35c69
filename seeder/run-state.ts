import { formatCount, formatDuration } from '../common/progress.ts';
import type { BrokerLink, LinkListener, PauseKind } from './broker/link.ts';
import type { Pacer } from './pacing/pacer.ts';
import type { ConfirmPublisher } from './broker/publisher.ts';
import type { Selector } from './pacing/select.ts';
import type { Pause, SeedResult } from './summary.ts';

/** Recorded pauses kept per run (a flapping connection must not grow memory without end). */
const MAX_PAUSES = 1_000;

export type RunInfo = Pick<SeedResult, 'events' | 'url' | 'exchange' | 'runId' | 'contentType' | 'total' | 'startPosition' | 'checkpoint'>;

/**
 * The live state of one seed run, beside the publisher and the connection: pauses (broker
 * alarm, reconnecting) and the pacer they hold, the progress line and the final result.
 */
export class RunState implements LinkListener {
  /** The run's pacing and selection; its pacer is asked each time (a control-file rate creates one in an unpaced run). */
  pace: { readonly pacer: Pacer | null; readonly selector: Selector } | null = null;
  link: BrokerLink | null = null;
  start = performance.now();
  readonly pauses: Pause[] = [];
  private readonly open = new Map<PauseKind, { since: number; reason: string }>();
  private readonly pausedMs: Record<PauseKind, number> = { blocked: 0, reconnecting: 0 };

  constructor(
    readonly info: RunInfo,
    readonly publisher: ConfirmPublisher,
    private readonly logLine: (line: string) => void,
  ) {}

  paused(kind: PauseKind, reason: string): void {
    if (this.open.has(kind)) return;
    const now = performance.now();
    this.open.set(kind, { since: now, reason });
    // Stop the schedule, so there is no catch-up burst afterwards.
    this.pacer?.pause(now);
  }

  resumed(kind: PauseKind): void {
    const pause = this.open.get(kind);
    if (!pause) return;
    this.open.delete(kind);
    const now = performance.now();
    this.pausedMs[kind] += now - pause.since;
    if (this.pauses.length < MAX_PAUSES) {
      this.pauses.push({ kind, reason: pause.reason, atMs: Math.round(pause.since - this.start), durationMs: Math.round(now - pause.since) });
    }
    if (this.open.size === 0) this.pacer?.resume(now);
  }

  private get pacer(): Pacer | null {
    return this.pace?.pacer ?? null;
  }

  log(line: string): void {
    this.logLine(line);
  }

  progressLine(): string {
    const p = this.publisher;
    const total = this.info.total;
    const done = p.safePosition;
    const seconds = (performance.now() - this.start) / 1000;
    const rate = seconds > 0 ? p.confirmed / seconds : 0;
    const limit = this.pace?.selector.limit;
    const eta = formatDuration(this.secondsLeft(done, seconds, rate));
    const pct = limit !== undefined ? ` (${((100 * p.confirmed) / limit).toFixed(1)}% of --limit ${formatCount(limit)})` : total > 0 ? ` (${((100 * done) / total).toFixed(1)}%)` : '';
    const target = this.pacer ? ` of ${formatCount(this.pacer.rate)}/s` : '';
    const status = this.link?.status();
    const line = `confirmed through ${formatCount(done)}/${formatCount(total)}${pct} · published ${formatCount(p.published)} · in flight ${formatCount(p.inFlight)} · ${formatCount(rate)}/s${target} · ETA ${eta}`;
    return status ? `${status} · ${line}` : line;
  }

  /**
   * Every event published: the events left at the confirm rate. With a selection the run
   * moves through the stream faster than it publishes: the stream left at the rate it has
   * moved so far, or with --limit the selected events left at the confirm rate, if sooner.
   */
  private secondsLeft(done: number, seconds: number, confirmRate: number): number {
    const selector = this.pace?.selector;
    if (!selector?.active) return confirmRate > 0 ? (this.info.total - done) / confirmRate : Number.NaN;
    const moved = (done - this.info.startPosition) / seconds;
    let left = moved > 0 ? (this.info.total - done) / moved : Number.POSITIVE_INFINITY;
    const limit = selector.limit;
    if (limit !== undefined && confirmRate > 0) left = Math.min(left, Math.max(0, limit - this.publisher.confirmed) / confirmRate);
    return left;
  }

  result(interrupted: boolean): SeedResult {
    const p = this.publisher;
    const now = performance.now();
    const elapsedMs = now - this.start;
    const pausedNow = (kind: PauseKind) => this.pausedMs[kind] + (this.open.has(kind) ? now - this.open.get(kind)!.since : 0);
    return {
      ...this.info,
      position: p.safePosition,
      published: p.published,
      confirmed: p.confirmed,
      nacked: p.nacked,
      retried: p.retried,
      overtaken: p.overtaken,
      unconfirmed: p.unconfirmed,
      republished: p.republished,
      reconnects: this.link?.reconnects ?? 0,
      reconnectingMs: pausedNow('reconnecting'),
      returned: Object.fromEntries(p.returned),
      returnedTotal: p.returnedTotal,
      elapsedMs,
      achievedRate: elapsedMs > 0 ? (p.confirmed * 1000) / elapsedMs : 0,
      targetRate: this.pacer?.rate,
      blockedMs: pausedNow('blocked'),
      pauses: [...this.pauses],
      stalls: this.pacer?.stalls ?? 0,
      interrupted,
    };
  }
}
