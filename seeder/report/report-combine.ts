import { formatCount } from '../../common/progress.ts';
import type { RunReport } from './report.ts';

/** One partition in the combined view of N partitioned seed runs. */
export interface PartitionView {
  readonly index: number;
  readonly files: readonly string[];
  /** Confirmed events over this partition's runs (a resumed run adds its own). */
  readonly confirmed: number;
  readonly reconnects: number;
  /** Upper bound of duplicates the broker may hold (republished after lost connections). */
  readonly republished: number;
  /** Its last run confirmed everything through the end of the data set. */
  readonly complete: boolean;
}

export interface CombinedView {
  readonly partitions: number;
  /** Events in the data set, as every run saw it. */
  readonly total: number;
  readonly views: readonly PartitionView[];
  readonly confirmed: number;
  /** What stands between these runs and "the whole data set arrived"; empty when it did. */
  readonly problems: readonly string[];
}

/**
 * Whether `--partition i/N` seed runs together published one whole data set: every partition
 * 0..N-1 present, each one's last run confirmed through the end, no other selection, no
 * unroutable events, all of the same data set and exchange. Runs of one partition are taken
 * in the order given (a run and its --resume).
 */
export function combineReports(reports: readonly { file: string; report: RunReport }[]): CombinedView {
  const problems: string[] = [];
  const counts = new Set<number>();
  const byIndex = new Map<number, { file: string; report: RunReport }[]>();
  for (const entry of reports) {
    const { selection, result } = entry.report;
    const { partition, ...other } = selection;
    if (!partition) problems.push(`${entry.file} is not a partitioned run (no --partition i/N)`);
    if (Object.values(other).some((v) => v !== undefined)) problems.push(`${entry.file} selected only part of its partition (${JSON.stringify(other)})`);
    if (!result) problems.push(`${entry.file} has no result: the run failed before publishing`);
    if (!partition) continue;
    counts.add(partition.count);
    byIndex.set(partition.index, [...(byIndex.get(partition.index) ?? []), entry]);
  }
  const n = counts.size === 1 ? [...counts][0]! : 0;
  if (counts.size > 1) problems.push(`the runs split the keys differently (--partition …/${[...counts].join(', …/')})`);
  const results = reports.map((r) => r.report.result).filter((r) => r !== undefined);
  const totals = new Set(results.map((r) => r.total));
  const exchanges = new Set(results.map((r) => r.exchange));
  if (totals.size > 1) problems.push(`the runs read different data sets (${[...totals].map(formatCount).join(' vs ')} events)`);
  if (exchanges.size > 1) problems.push(`the runs published to different exchanges (${[...exchanges].join(', ')})`);
  const views: PartitionView[] = [];
  for (let index = 0; index < n; index++) {
    const runs = byIndex.get(index) ?? [];
    if (runs.length === 0) {
      problems.push(`partition ${index}/${n} has no run report`);
      continue;
    }
    const done = runs.map((r) => r.report.result).filter((r) => r !== undefined);
    const last = done.at(-1);
    const complete = last !== undefined && last.position >= last.total && last.unconfirmed === 0 && !last.interrupted;
    if (!complete) problems.push(`partition ${index}/${n} did not finish (${runs.at(-1)!.file}${last ? `: confirmed through event ${formatCount(last.position)} of ${formatCount(last.total)}` : ''}); seed --resume it`);
    const returned = done.reduce((s, r) => s + r.returnedTotal, 0);
    if (returned > 0) problems.push(`partition ${index}/${n}: ${formatCount(returned)} events were unroutable and dropped by the broker`);
    views.push({
      index,
      files: runs.map((r) => r.file),
      confirmed: done.reduce((s, r) => s + r.confirmed, 0),
      reconnects: done.reduce((s, r) => s + r.reconnects, 0),
      republished: done.reduce((s, r) => s + r.republished, 0),
      complete,
    });
  }
  return { partitions: n, total: [...totals][0] ?? 0, views, confirmed: views.reduce((s, v) => s + v.confirmed, 0), problems };
}

export function formatCombined(view: CombinedView): string {
  const lines = view.views.map(
    (v) =>
      `  partition ${v.index}/${view.partitions}  ${formatCount(v.confirmed).padStart(12)} confirmed  ${v.complete ? 'complete' : 'INCOMPLETE'}` +
      (v.reconnects > 0 ? `  ${v.reconnects} reconnects, at most ${formatCount(v.republished)} duplicates` : '') +
      `  (${v.files.join(', ')})`,
  );
  const verdict =
    view.problems.length === 0
      ? `the whole data set arrived: ${formatCount(view.total)} events in ${view.partitions} partitions, ${formatCount(view.confirmed)} confirmed`
      : `the data set did NOT all arrive:\n${view.problems.map((p) => `  - ${p}`).join('\n')}`;
  return [`combined view of ${view.views.reduce((s, v) => s + v.files.length, 0)} partitioned runs:`, ...lines, verdict].join('\n');
}
