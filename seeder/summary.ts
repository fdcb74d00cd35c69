import { SeedlineError, type ErrorCode, type ErrorContext } from '../common/errors.ts';
import { formatCount, formatDuration } from '../common/progress.ts';
import type { ContentType } from './broker/message.ts';

/** What a seed run did; returned on success and attached to a `SeedFailure`. */
export interface SeedResult {
  readonly events: string;
  readonly exchange: string;
  /** The broker URL with the password removed. */
  readonly url: string;
  readonly runId: string;
  readonly contentType: ContentType;
  /** Events in the data set. */
  readonly total: number;
  /** Stream index this run started at (> 0 when it resumed a checkpoint). */
  readonly startPosition: number;
  /** Every event before this stream index is confirmed: where `--resume` continues. */
  readonly position: number;
  /** The checkpoint file, or null when the run kept none. */
  readonly checkpoint: string | null;
  /** Events published by this run, each counted once however often it was sent. */
  readonly published: number;
  /** Events acked by the broker, each once (returned events are acked too: counted in both). */
  readonly confirmed: number;
  /** Nacks received; each nacked event was published again (`retried`) up to the retry limit. */
  readonly nacked: number;
  readonly retried: number;
  /**
   * Events the broker confirmed while an earlier, nacked event of their key was still
   * unconfirmed: they may have arrived before it. Only events sent before the first nack
   * (from then on at most one event per key is unconfirmed); 0 with `keyOrder: 'strict'`.
   */
  readonly overtaken: number;
  /** Published, but not confirmed when the run ended (it failed or gave up). */
  readonly unconfirmed: number;
  /**
   * Events published again after a lost connection (from the lowest unconfirmed one on):
   * the broker may have received them twice. Never more than the in-flight window per reconnect.
   */
  readonly republished: number;
  readonly reconnects: number;
  /** Time spent without a connection, reconnecting. */
  readonly reconnectingMs: number;
  /** Unroutable events the broker returned (no queue bound for their type), by type. */
  readonly returned: Readonly<Record<string, number>>;
  readonly returnedTotal: number;
  readonly elapsedMs: number;
  /** Confirmed events per second over the run. */
  readonly achievedRate: number;
  /** `--rate`, when the run was paced. */
  readonly targetRate: number | undefined;
  /** Time the broker blocked publishing (memory/disk alarm). */
  readonly blockedMs: number;
  /** Every pause (alarm or reconnect), in order. */
  readonly pauses: readonly Pause[];
  /** Times the pacer gave up on catching up after a stall (the rate was not held then). */
  readonly stalls: number;
  readonly interrupted: boolean;
}

/** A time publishing stood still: the broker's alarm, or no connection. */
export interface Pause {
  readonly kind: 'blocked' | 'reconnecting';
  readonly reason: string;
  /** Since the start of the run (ms). */
  readonly atMs: number;
  readonly durationMs: number;
}

/** A seed run that ended in an error, with what it had done until then. */
export class SeedFailure extends SeedlineError {
  readonly result: SeedResult;

  constructor(code: ErrorCode, message: string, result: SeedResult, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, context, options);
    this.result = result;
  }
}

/** The block printed at the end of a run. */
export function formatSummary(r: SeedResult): string {
  const lines = [
    `seed ${r.interrupted ? 'interrupted' : 'finished'}: ${r.events} → exchange '${r.exchange}' at ${r.url} (run ${r.runId})`,
  ];
  if (r.startPosition > 0) lines.push(row('resumed', `from event ${formatCount(r.startPosition)} (the checkpoint of run ${r.runId})`));
  lines.push(
    row('published', `${formatCount(r.published)} of ${formatCount(r.total - r.startPosition)} events`),
    row('confirmed', formatCount(r.confirmed)),
    row('nacked', r.nacked === 0 ? '0' : `${formatCount(r.nacked)} (${formatCount(r.retried)} published again after a backoff; from the first nack on, one unconfirmed event per key)`),
  );
  if (r.overtaken > 0) lines.push(row('overtaken', `${formatCount(r.overtaken)} events may have arrived before an earlier, nacked event of their key (sent before the first nack; --key-order strict prevents it)`));
  if (r.unconfirmed > 0) lines.push(row('unconfirmed', `${formatCount(r.unconfirmed)} (the run ended before the broker confirmed them; --resume publishes them again)`));
  if (r.reconnects > 0 || r.republished > 0) {
    lines.push(row('reconnects', `${r.reconnects} (${formatDuration(r.reconnectingMs / 1000)} without a connection)`));
    lines.push(row('duplicates', `at most ${formatCount(r.republished)} (republished after a lost connection; consumers de-duplicate by message id)`));
  }
  const byType = Object.entries(r.returned)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([type, n]) => `${type} ${formatCount(n)}`)
    .join(', ');
  lines.push(row('returned', r.returnedTotal === 0 ? '0' : `${formatCount(r.returnedTotal)} unroutable (${byType})`));
  lines.push(row('elapsed', formatDuration(r.elapsedMs / 1000)));
  const target = r.targetRate === undefined ? 'unlimited' : `target ${formatCount(r.targetRate)}/s`;
  lines.push(row('rate', `${formatCount(r.achievedRate)} events/s (${target})`));
  if (r.blockedMs > 0) lines.push(row('blocked', `${formatDuration(r.blockedMs / 1000)} (the broker paused publishers: memory or disk alarm)`));
  if (r.checkpoint) lines.push(row('checkpoint', `${r.checkpoint}: ${r.position >= r.total ? 'complete' : `confirmed through event ${formatCount(r.position)}; seed --resume continues there`}`));
  if (r.stalls > 0) lines.push(row('stalls', `${r.stalls} (the broker fell behind the schedule; the rate was not held then)`));
  return lines.join('\n');
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(12)}${value}`;
}
