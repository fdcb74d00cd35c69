import { formatCount } from '../../common/progress.ts';

/** What the backlog watch records and reports (seeder/backlog/watch.ts), and how a breach reads. */
export interface BacklogSample {
  /** Seconds since the watch started. */
  readonly t: number;
  readonly ready: number;
  readonly consumers: number;
  readonly unacked?: number;
  readonly ackRate?: number;
}

/** Why the watch stopped a run. */
export interface Breach {
  readonly queue: string;
  readonly kind: 'backlog' | 'growth';
  readonly value: number;
  readonly limit: number;
  /** Seconds since the watch started, and the wall-clock time. */
  readonly t: number;
  readonly at: string;
}

export interface QueueBacklog {
  readonly queue: string;
  readonly end: number;
  readonly peak: number;
  /** Messages/s over the last window, with the interquartile half-range of the pairwise slopes. */
  readonly growth: number;
  readonly growthSpread: number;
  readonly samples: readonly BacklogSample[];
}

/** What --report carries under `backlog`. */
export interface BacklogReport {
  readonly source: string;
  readonly startedAt: string;
  readonly intervalMs: number;
  readonly windowSeconds: number;
  readonly queues: readonly QueueBacklog[];
  readonly breach: Breach | null;
  readonly drain?: DrainResult;
}

export interface DrainResult {
  readonly drained: boolean;
  readonly seconds: number;
  /** Backlog per queue when the drain ended. */
  readonly left: Readonly<Record<string, number>>;
}

/** "queue app.chat's backlog 5,120 passed --max-backlog 5,000 at 12.0s (2026-…Z)". */
export function describeBreach(b: Breach): string {
  const what = b.kind === 'backlog' ? `backlog ${formatCount(b.value)} passed --max-backlog ${formatCount(b.limit)}` : `backlog grew ${formatCount(b.value)}/s, above --max-backlog-growth ${formatCount(b.limit)}/s`;
  return `queue ${b.queue}: ${what} at ${b.t.toFixed(1)}s (${b.at})`;
}

/** Merges the samples older than `before` pairwise in place, keeping the deeper of each pair. */
export function compactBefore(samples: BacklogSample[], before: number): void {
  let old = 0;
  while (old < samples.length && samples[old]!.t < before) old++;
  const merged: BacklogSample[] = [];
  for (let i = 0; i < old; i += 2) {
    const a = samples[i]!;
    const b = i + 1 < old ? samples[i + 1]! : a;
    merged.push(b.ready >= a.ready ? b : a);
  }
  samples.splice(0, old, ...merged);
}
