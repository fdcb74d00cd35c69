import { SeedlineError, type ErrorCode, type ErrorContext } from '../common/errors.ts';
import { formatCount, formatDuration } from '../common/progress.ts';
import type { ContentType } from './message.ts';

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
  readonly published: number;
  /** Acked by the broker (returned events are acked too: they are counted in both). */
  readonly confirmed: number;
  readonly nacked: number;
  /** Published, but the channel closed before their confirm came. */
  readonly unconfirmed: number;
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
  /** Times the pacer gave up on catching up after a stall (the rate was not held then). */
  readonly stalls: number;
  readonly interrupted: boolean;
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
    row('published', `${formatCount(r.published)} of ${formatCount(r.total)} events`),
    row('confirmed', formatCount(r.confirmed)),
    row('nacked', formatCount(r.nacked)),
  ];
  if (r.unconfirmed > 0) lines.push(row('unconfirmed', `${formatCount(r.unconfirmed)} (the channel closed before the broker confirmed them)`));
  const byType = Object.entries(r.returned)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([type, n]) => `${type} ${formatCount(n)}`)
    .join(', ');
  lines.push(row('returned', r.returnedTotal === 0 ? '0' : `${formatCount(r.returnedTotal)} unroutable (${byType})`));
  lines.push(row('elapsed', formatDuration(r.elapsedMs / 1000)));
  const target = r.targetRate === undefined ? 'unlimited' : `target ${formatCount(r.targetRate)}/s`;
  lines.push(row('rate', `${formatCount(r.achievedRate)} events/s (${target})`));
  if (r.blockedMs > 0) lines.push(row('blocked', `${formatDuration(r.blockedMs / 1000)} (the broker paused publishers: memory or disk alarm)`));
  if (r.stalls > 0) lines.push(row('stalls', `${r.stalls} (the broker fell behind the schedule; the rate was not held then)`));
  return lines.join('\n');
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(12)}${value}`;
}
