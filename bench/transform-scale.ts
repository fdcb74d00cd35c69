/**
 * Transform at scale (issue 19): the transform CLI, a child process of its own, on the dump of
 * every fixture table at `finland` and at `finland-x10` (ten times the rows), at the default
 * --memory and at 64MB. Checks, per budget: the CLI's peak RSS (VmHWM) within the promise of
 * --memory + 150 MB at both sizes, and time growing no worse than n log n from the small dump
 * to the large one: t_large / t_small ≤ (N ln N) / (n ln n), n and N the events written.
 *
 * Each budget runs small, large, small: the small dump's time is the mean of the two runs that
 * bracket the large one, so a machine getting busier or quieter during the long run moves both
 * sides. One run of the large dump only (~5-10 min each): this is a scale check, not a ratio of
 * alternating rounds. Disk for spilled sorted runs is sampled every second (`<out>/.sort-runs`).
 *
 * The dumps come from bench/extracted-dump.ts (fixture create + extract, cached); the first run
 * loads finland-x10 (~35 M rows, ~7 min) and extracts it. --quick: tiny and small instead.
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../common/exit-codes.ts';
import { DEFAULT_SEED } from '../fixtures/presets.ts';
import { eventCount, eventStreams, type Manifest } from '../recordfile/index.ts';
import { cachedExtractedDump } from './extracted-dump.ts';
import { formatMB, formatRate, runCli, type BenchContext, type BenchResult, type Benchmark, type CliRun } from './measure.ts';

const MB = 1024 * 1024;
const SLACK = 150 * MB;
const BUDGETS_MB = [512, 64];

interface ScaleRun extends CliRun {
  readonly events: number;
  /** Most bytes of spilled sorted runs on disk at one time, and how many files then. */
  readonly spillBytes: number;
  readonly spillFiles: number;
  /** The events data set's size on disk (gzipped parts, manifest, rejects). */
  readonly outBytes: number;
}

export const transformScaleBench: Benchmark = {
  name: 'transform-scale',
  description: 'the transform CLI on finland and on finland-x10 (every table): peak RSS within --memory + 150 MB, time no worse than n log n',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const [small, large] = ctx.quick ? ['tiny', 'small'] : ['finland', 'finland-x10'];
    const smallDump = await cachedExtractedDump(small!, DEFAULT_SEED, ctx.log);
    const largeDump = await cachedExtractedDump(large!, DEFAULT_SEED, ctx.log);
    const work = await mkdtemp(join(tmpdir(), 'seedline-bench-tscale-'));
    const lines: string[] = [];
    const problems: string[] = [];
    try {
      lines.push(`  dumps      ${small} ${await dumpLine(smallDump)}; ${large} ${await dumpLine(largeDump)}`);
      for (const mb of BUDGETS_MB) {
        const one = (preset: string, dump: string) => {
          ctx.log(`--memory ${mb}MB, ${preset} ...`);
          return transformOnce(dump, join(work, 'events'), mb, join(work, 'usage.json'));
        };
        const before = await one(small!, smallDump);
        const big = await one(large!, largeDump);
        const after = await one(small!, smallDump);
        if (before.events !== after.events) problems.push(`${small}: ${before.events} events, then ${after.events}`);
        const limit = mb * MB + SLACK;
        for (const [preset, run] of [[small, before], [large, big], [small, after]] as const) {
          lines.push(
            `  --memory ${String(mb).padStart(3)}MB ${preset!.padEnd(11)} ${run.events.toLocaleString('en-US').padStart(11)} events  ${run.seconds.toFixed(1).padStart(6)} s  ${formatRate(run.events / run.seconds)} events/s  ` +
              `CPU ${run.cpuSeconds.toFixed(0)} s  peak RSS ${formatMB(run.maxRss)} (promise ${formatMB(limit)})  spilled ${formatMB(run.spillBytes)} in ${run.spillFiles} runs at most  events ${formatMB(run.outBytes)}`,
          );
          if (run.maxRss > limit) problems.push(`--memory ${mb}MB on ${preset}: peak RSS ${formatMB(run.maxRss)} is over --memory + 150 MB (${formatMB(limit)})`);
        }
        const n = before.events;
        const N = big.events;
        const bound = (N * Math.log(N)) / (n * Math.log(n));
        const wall = big.seconds / ((before.seconds + after.seconds) / 2);
        const cpu = big.cpuSeconds / ((before.cpuSeconds + after.cpuSeconds) / 2);
        lines.push(`  --memory ${String(mb).padStart(3)}MB growth   ${(N / n).toFixed(2)}x the events: wall ${wall.toFixed(2)}x, CPU ${cpu.toFixed(2)}x; n log n bound ${bound.toFixed(2)}x`);
        if (!ctx.quick && wall > bound) problems.push(`--memory ${mb}MB: wall time grew ${wall.toFixed(2)}x from ${small} to ${large}, over the n log n bound ${bound.toFixed(2)}x (CPU ${cpu.toFixed(2)}x)`);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return { lines, problems };
  },
};

async function transformOnce(dump: string, out: string, mb: number, usageFile: string): Promise<ScaleRun> {
  await rm(out, { recursive: true, force: true });
  const spill = new SpillSampler(join(out, '.sort-runs'));
  let cli: CliRun;
  try {
    cli = await runCli(['transform', '--dump', dump, '--out', out, '--memory', `${mb}MB`, '--progress', 'off'], usageFile, [0, EXIT.DONE_WITH_REJECTS]);
  } finally {
    await spill.stop();
  }
  const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest;
  const run = { ...cli, events: eventCount(eventStreams(manifest, out)), spillBytes: spill.peakBytes, spillFiles: spill.peakFiles, outBytes: await sizeOf(out) };
  await rm(out, { recursive: true, force: true });
  return run;
}

/** Polls a directory's total size every second; the peak is what spilling needed on disk. */
class SpillSampler {
  peakBytes = 0;
  peakFiles = 0;
  private readonly timer: NodeJS.Timeout;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.timer = setInterval(() => {
      this.pending = this.pending.then(() => this.sample());
    }, 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }

  private async sample(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    let bytes = 0;
    for (const name of names) bytes += await stat(join(this.dir, name)).then((s) => s.size, () => 0);
    if (bytes > this.peakBytes) {
      this.peakBytes = bytes;
      this.peakFiles = names.length;
    }
  }
}

async function sizeOf(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

async function dumpLine(dir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const rows = Object.values(manifest.streams).reduce((sum, s) => sum + s.records, 0);
  return `${rows.toLocaleString('en-US')} rows, ${formatMB(await sizeOf(dir))}`;
}
