import { SeedlineError } from '../../common/errors.ts';
import { FixedRate, ReplayTiming, Stages, type Schedule, type Stage } from './schedule.ts';

/** How fast to publish: at most one of rate / speed / stages (stages may start from rate). */
export interface PaceOptions {
  /** Events per second. With `stages`, the rate the first ramp starts from. */
  readonly rate?: number;
  /** Replay the original gaps of occurred_at, K times faster. */
  readonly speed?: number;
  /** With `speed`: the longest wait between two events (ms of replay time). */
  readonly maxGapMs?: number;
  /** Linear ramps, e.g. parsed from `1000:60s,20000:5m`. */
  readonly stages?: readonly Stage[];
}

/** The schedule the options ask for, or undefined for "as fast as confirms allow". */
export function scheduleFor(options: PaceOptions): Schedule | undefined {
  if (options.speed !== undefined && (options.rate !== undefined || options.stages !== undefined)) {
    throw usage('--speed', '--speed replays the original timing, so it cannot be combined with --rate or --stages');
  }
  if (options.maxGapMs !== undefined && options.speed === undefined) throw usage('--max-gap', '--max-gap only applies with --speed');
  if (options.speed !== undefined) {
    if (!(options.speed > 0) || !Number.isFinite(options.speed)) throw usage('--speed', `--speed must be a positive factor, got ${options.speed}`);
    return new ReplayTiming(options.speed, options.maxGapMs);
  }
  if (options.stages !== undefined) return new Stages(options.stages, options.rate ?? 0);
  if (options.rate !== undefined) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate)) throw usage('--rate', `--rate must be a positive number of events per second, got ${options.rate}`);
    return new FixedRate(options.rate);
  }
  return undefined;
}

/** `"1000:60s,20000:5m"` → ramps; the last stage's rate must be > 0 (it holds until the end). */
export function parseStages(text: string): Stage[] {
  const stages = text.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\S+)\s*$/.exec(part);
    if (!m) throw usage('--stages', `--stages expects rate:duration pairs like 1000:60s,20000:5m, got '${part}'`);
    return { rate: Number(m[1]), durationMs: parseDuration(m[2]!, '--stages') };
  });
  if (!(stages[stages.length - 1]!.rate > 0)) {
    throw usage('--stages', `the last stage of --stages must have a rate above 0 (it holds until the data set ends), got '${text}'`);
  }
  return stages;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `"250ms"`, `"30s"`, `"5m"`, `"1h"`, `"1.5s"` → ms. A bare number is seconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw usage(option, `${option} expects a duration like 500ms, 30s, 5m or 1h, got '${text}'`);
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}

function usage(option: string, message: string): SeedlineError {
  return new SeedlineError('USAGE', message, { option, hint: 'see seeder/RATES.md for the pacing options' });
}
