import { Option, type Command } from 'commander';
import { SeedlineError } from '../../common/errors.ts';
import { controlSignals, watchControlFile } from './control.ts';
import { dryRun, formatDryRun } from './dry-run.ts';
import { Pace } from './pace.ts';
import { parseDuration, parseStages } from './pace-options.ts';
import { buildRunReport, writeRunReport } from '../report/report.ts';
import { eventStreams, eventsByType, readManifest } from '../../recordfile/index.ts';
import { describeSelection, globsMatchingNothing, isEmptySelection, parseSelection, type Selection, type SelectionFlags } from './select.ts';
import type { SeedResult } from '../summary.ts';
import { declareTopology, loadTopology } from '../broker/topology.ts';
import type { BacklogReport } from '../backlog/watch-report.ts';

/** The flags `addPaceOptions` adds to `seedline seed` (documented in seeder/RATES.md). */
export interface PaceFlags extends SelectionFlags {
  events: string;
  amqpUrl: string;
  exchange: string;
  speed?: string;
  maxGap?: string;
  stages?: string;
  control?: string;
  dryRun?: boolean;
  topology?: string;
  report?: string;
  sentAtHeader?: boolean;
  failOnUnmatchedTypes?: boolean;
  progress: 'auto' | 'lines' | 'off';
}

export function addPaceOptions(command: Command): Command {
  return command
    .option('--speed <K>', 'replay the original gaps between occurred_at times, K times faster (1 = real time)')
    .option('--max-gap <duration>', 'with --speed: wait at most this long between two events (e.g. 5s)')
    .option('--stages <ramps>', 'linear ramps rate:duration,…, e.g. 1000:60s,20000:5m (from --rate, or 0)')
    .option('--control <file>', 'read every second; write a rate (2500), x2, x0.5, pause or resume into it to steer the run (SIGUSR2 doubles, SIGUSR1 halves)')
    .option('--from <time>', 'only events with occurred_at at or after this ISO time')
    .option('--until <time>', 'only events with occurred_at before this ISO time')
    .option('--types <globs>', 'only these event types, comma-separated globs (chat.*,members.member-registered)')
    .option('--fail-on-unmatched-types', 'exit with an error when a --types glob matches no event type (default: a warning)')
    .option('--limit <n>', 'stop after n selected events')
    .option('--sample <P%>', 'keep P% of the keys, whole (every event of a kept key, none of a dropped one)')
    .option('--partition <i/N>', 'only keys that hash to partition i of N (run N seeders together)')
    .option('--dry-run', 'read and count everything, publish nothing: counts per type, time span, expected duration')
    .option('--topology <file>', 'declare these queues and bindings before seeding (see seeder/topology.example.json)')
    .option('--report <file>', 'write a run report (JSON: counts, pauses, rate per second, latency histogram)')
    .addOption(new Option('--sent-at-header', "add a sent-at header (epoch ms of the intended send time) for seedline tap's end-to-end latency"));
}

/** A seed run's pacing session: the Pace to pass to seed(), and what to do at the end. */
export interface PaceSession {
  readonly pace: Pace;
  /** Writes the report (if asked); call with the result, or the failure's result. */
  finish(result: SeedResult | undefined, backlog?: BacklogReport): Promise<void>;
  /** Removes the signal handlers and stops polling the control file. */
  dispose(): void;
}

/**
 * Parses the pacing and selection flags. Returns null after a `--dry-run` (the report is
 * printed, the exit code set); otherwise declares the topology (if any) and starts the live
 * controls.
 */
export async function preparePace(flags: PaceFlags, rate: number | undefined, signal?: AbortSignal): Promise<PaceSession | null> {
  const selection: Selection = parseSelection(flags);
  const speed = flags.speed === undefined ? undefined : positive('--speed', flags.speed);
  const options = {
    rate,
    speed,
    maxGapMs: flags.maxGap === undefined ? undefined : parseDuration(flags.maxGap, '--max-gap'),
    stages: flags.stages === undefined ? undefined : parseStages(flags.stages),
    selection,
    sentAtHeader: flags.sentAtHeader ?? false,
  };
  if (flags.dryRun) {
    const report = await dryRun({ events: flags.events, ...options, progress: flags.progress, signal });
    process.stdout.write(`${formatDryRun(report)}\n`);
    process.exitCode = 0;
    return null;
  }
  const pace = new Pace(options);
  const log = (line: string) => process.stderr.write(`seed: ${line}\n`);
  // A --types typo would publish nothing of it and exit 0: say so before connecting when the
  // data set lists its types, otherwise after the run (from what was selected).
  let typesChecked = false;
  const unmatched = (globs: string[], where: string) => {
    if (globs.length === 0) return;
    const message = `--types ${globs.map((g) => `'${g}'`).join(', ')} ${where}`;
    if (flags.failOnUnmatchedTypes) throw new SeedlineError('USAGE', message, { option: '--types', hint: 'check the spelling (seed --dry-run lists the types and their counts)' });
    log(`warning: ${message} (--fail-on-unmatched-types makes this an error)`);
  };
  const known = selection.types ? await eventTypesOf(flags.events) : undefined;
  if (known) {
    typesChecked = true;
    unmatched(globsMatchingNothing(selection.types!, known), `matches no event type of ${flags.events} (it holds ${known.join(', ')})`);
  }
  if (flags.topology) {
    const declared = await declareTopology(flags.amqpUrl, flags.exchange, await loadTopology(flags.topology));
    log(`topology ${flags.topology}: ${declared.queues} queues, ${declared.bindings} bindings declared on exchange '${flags.exchange}'`);
  }
  if (!isEmptySelection(selection)) log(`selection: ${describeSelection(selection)}`);
  const stops = [controlSignals(pace, log)];
  let finished = false;
  if (flags.control) stops.push(watchControlFile(flags.control, pace, log));
  return {
    pace,
    async finish(result, backlog) {
      if (finished) return;
      finished = true;
      if (flags.report) {
        await writeRunReport(flags.report, buildRunReport(pace, selection, result, backlog));
        log(`run report written to ${flags.report} (seedline report ${flags.report} renders it as HTML)`);
      }
      if (!typesChecked && result && !result.interrupted && result.position >= result.total) unmatched(pace.selector.globsWithoutEvents, 'selected no event in the whole data set');
    },
    dispose() {
      for (const stop of stops) stop();
    },
  };
}

/** The event types the transform recorded for the data set (absent in older or foreign ones). */
async function eventTypesOf(events: string): Promise<string[] | undefined> {
  const byType = await readManifest(events).then((m) => eventsByType(eventStreams(m, events)), () => undefined);
  return byType && Object.keys(byType).length > 0 ? Object.keys(byType) : undefined;
}

function positive(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new SeedlineError('USAGE', `${option} must be a positive number, got '${text}'`, { option });
  return value;
}
