import { readFile, rename, writeFile } from 'node:fs/promises';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import { VERSION } from '../../common/version.ts';
import type { HistogramJson } from './histogram.ts';
import type { SecondSample } from './meter.ts';
import type { Pace, PauseRecord } from '../pacing/pace.ts';
import type { Selection } from '../pacing/select.ts';
import type { SeedResult } from '../summary.ts';
import type { BacklogReport } from '../backlog/watch-report.ts';

export const RUN_REPORT_FORMAT = 'seedline-run-report/1';

/** What `seed --report run.json` writes; `seedline report run.json` renders it as HTML. */
export interface RunReport {
  readonly format: typeof RUN_REPORT_FORMAT;
  readonly tool: { readonly name: 'seedline'; readonly version: string };
  readonly writtenAt: string;
  /** The schedule ("500 events/s", "ramp …", "replay ×100"), or "unpaced". */
  readonly schedule: string;
  readonly selection: Selection;
  /** The seed result (counts, returned by type, broker pauses, …); absent if the run failed before publishing. */
  readonly result?: SeedResult;
  /** Counts as the meter saw them (every publish with its confirm). */
  readonly counts: { readonly published: number; readonly confirmed: number; readonly nacked: number };
  /** Pauses of the schedule asked for with the control file, in seconds since the start. */
  readonly controlPauses: readonly PauseRecord[];
  /** Times the pacer gave up catching up after a stall, and the time it gave up (ms). */
  readonly stalls: number;
  readonly forgivenMs: number;
  /** Confirm latency from the intended send time, over the whole run (µs). */
  readonly latency: HistogramJson;
  /** One row per second: target and achieved rate, latency, in flight, lag. */
  readonly seconds: readonly SecondSample[];
  /** The backlog watch: every watched queue's samples, end, peak and growth (absent with --no-watch). */
  readonly backlog?: BacklogReport;
}

export function buildRunReport(pace: Pace, selection: Selection, result: SeedResult | undefined, backlog?: BacklogReport): RunReport {
  const meter = pace.meter;
  return {
    format: RUN_REPORT_FORMAT,
    tool: { name: 'seedline', version: VERSION },
    writtenAt: new Date().toISOString(),
    schedule: pace.pacer?.label ?? 'unpaced',
    selection,
    ...(result ? { result } : {}),
    counts: { published: meter.published, confirmed: meter.confirmed, nacked: meter.nacked },
    controlPauses: pace.pauses,
    stalls: pace.pacer?.stalls ?? 0,
    forgivenMs: Math.round(pace.pacer?.forgivenMs ?? 0),
    latency: meter.latency(),
    seconds: meter.seconds,
    ...(backlog ? { backlog } : {}),
  };
}

/** Written under a temporary name and renamed, so a reader never sees half a report. */
export async function writeRunReport(file: string, report: RunReport): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, `${JSON.stringify(report, null, 1)}\n`);
    await rename(tmp, file);
  } catch (err) {
    throw new SeedlineError('USAGE', `cannot write the run report ${file}: ${messageOf(err)}`, { file, option: '--report', hint: 'check that the directory exists and is writable' });
  }
}

export async function readRunReport(file: string): Promise<RunReport> {
  const hint = 'pass the file that seed --report wrote';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SeedlineError('CONFIG_INVALID', missing ? `the run report ${file} does not exist` : `cannot read the run report ${file}: ${messageOf(err)}`, { file, hint });
  }
  let data: Partial<RunReport> | null;
  try {
    data = JSON.parse(text) as Partial<RunReport> | null;
  } catch (err) {
    throw new SeedlineError('CONFIG_INVALID', `${file} is not a seedline run report: it is not JSON (${messageOf(err)})`, { file, hint });
  }
  if (data?.format !== RUN_REPORT_FORMAT) {
    throw new SeedlineError('CONFIG_INVALID', `${file} is not a seedline run report (expected format ${RUN_REPORT_FORMAT}, found ${data?.format === undefined ? 'no "format" field' : JSON.stringify(data.format)})`, { file, hint });
  }
  const missing = (['seconds', 'latency', 'counts', 'controlPauses'] as const).find((k) => typeof data[k] !== 'object' || data[k] === null);
  if (missing || !Array.isArray(data.seconds)) {
    throw new SeedlineError('CONFIG_INVALID', `${file} is a damaged run report: '${missing ?? 'seconds'}' is missing or of the wrong kind`, { file, hint });
  }
  return data as RunReport;
}

/** run.json → run.html, beside it. */
export function defaultPagePath(file: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -'.json'.length)}.html` : `${file}.html`;
}
