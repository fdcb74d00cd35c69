import { readFile, rename, writeFile } from 'node:fs/promises';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { VERSION } from '../common/version.ts';
import type { HistogramJson } from './histogram.ts';
import type { SecondSample } from './meter.ts';
import type { Pace, PauseRecord } from './pace.ts';
import type { Selection } from './select.ts';
import type { SeedResult } from './summary.ts';

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
}

export function buildRunReport(pace: Pace, selection: Selection, result: SeedResult | undefined): RunReport {
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
  let data: RunReport;
  try {
    data = JSON.parse(await readFile(file, 'utf8')) as RunReport;
  } catch (err) {
    throw new SeedlineError('CONFIG_INVALID', `${file} cannot be read as a run report: ${messageOf(err)}`, { file, hint: 'pass the file seed --report wrote' });
  }
  if (data?.format !== RUN_REPORT_FORMAT || !Array.isArray(data.seconds)) {
    throw new SeedlineError('CONFIG_INVALID', `${file} is not a seedline run report (expected format ${RUN_REPORT_FORMAT}, found ${JSON.stringify(data?.format)})`, {
      file,
      hint: 'pass the file seed --report wrote',
    });
  }
  return data;
}
