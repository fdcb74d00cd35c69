import { SeedlineError } from '../common/errors.ts';
import { Progress, formatCount } from '../common/progress.ts';
import { EventEncoder } from './event-encoder.ts';
import { ExternalSorter } from './external-sort.ts';
import { checkDump, generateEvents, newStats, type GenerateStats } from './generate.ts';
import type { RejectLog } from './rejects.ts';
import type { SelectedModule } from './select-modules.ts';

/**
 * The part of a transform every output shares: check the dump, run the modules over it, sort
 * the events in bounded memory and hand them, in stream order, to `consume` as sort records
 * (sort-record.ts). The caller decides where they go: a data set, or JSON lines.
 */
export interface PipelineOptions {
  readonly dump: string;
  readonly modules: readonly SelectedModule[];
  readonly limit?: number;
  /** Memory budget: half of it holds one sorted run, the rest is for Node, reading and writing. */
  readonly memoryBytes: number;
  /** Where sorted runs are spilled (removed afterwards). */
  readonly tmpDir: string;
  /** Most runs merged at once (tests lower it to exercise the multi-level merge). */
  readonly fanIn?: number;
  readonly rejects: RejectLog;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
}

export interface PipelineResult {
  readonly stats: GenerateStats;
  /** Sorted runs spilled to disk (0: the events fit in memory). */
  readonly runs: number;
}

export const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;

export async function runPipeline(
  options: PipelineOptions,
  consume: (sorted: AsyncIterable<Buffer[]>, stats: GenerateStats) => Promise<void>,
): Promise<PipelineResult> {
  const checkpoint = () => {
    if (options.signal?.aborted) {
      throw new SeedlineError('INTERRUPTED', 'transform interrupted; its output is incomplete', {
        hint: 'run the same transform again',
      });
    }
  };
  await checkDump(
    options.dump,
    options.modules.map((m) => m.module),
  );
  const encoder = await EventEncoder.create(options.modules.map((m) => m.module));
  const sorter = new ExternalSorter({
    runBytes: Math.max(1, Math.floor(options.memoryBytes / 2)),
    tmpDir: options.tmpDir,
    fanIn: options.fanIn,
    checkpoint,
  });
  const stats = newStats();
  const progress = new Progress({ label: 'transform', mode: options.progress });
  const started = Date.now();
  let phase = 'reading';
  let written = 0;
  progress.set(() => {
    const seconds = (Date.now() - started) / 1000;
    const base = `${formatCount(stats.rows)} rows, ${formatCount(stats.events)} events, ${formatCount(options.rejects.count)} rejected`;
    if (phase === 'reading') return `${base}, ${formatCount(stats.rows / Math.max(seconds, 0.001))} rows/s`;
    return `${base}; writing ${formatCount(written)}/${formatCount(stats.events)} events in order`;
  });
  try {
    await generateEvents({
      dump: options.dump,
      modules: options.modules,
      limit: options.limit,
      encoder,
      rejects: options.rejects,
      emit: (record) => sorter.add(record),
      checkpoint,
      stats,
    });
    phase = 'writing';
    const counted = (async function* () {
      for await (const batch of sorter.sorted()) {
        checkpoint();
        yield batch;
        written += batch.length;
      }
    })();
    await consume(counted, stats);
    progress.done();
    return { stats, runs: sorter.runCount };
  } catch (err) {
    progress.done('stopped');
    throw err;
  } finally {
    await sorter.dispose();
  }
}
