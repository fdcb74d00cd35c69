import { availableParallelism } from 'node:os';
import { SeedlineError } from '../common/errors.ts';
import { Progress, formatCount, formatDuration } from '../common/progress.ts';
import { readManifest } from '../recordfile/index.ts';
import { EventEncoder } from './event-encoder.ts';
import { ExternalSorter } from './external-sort.ts';
import { checkDump, generateEvents, newStats, type GenerateStats } from './generate.ts';
import { buildLookups } from './lookups/build.ts';
import { MODULES } from './modules/index.ts';
import { memoryPlan } from './memory-plan.ts';
import { generateInWorkers } from './parallel-generate.ts';
import type { RejectLog } from './rejects.ts';
import type { SelectedModule } from './select-modules.ts';
import { sortRecord, type SortFields } from './sort-record.ts';

/**
 * The part of a transform every output shares: check the dump, build the lookups the modules
 * declare (first pass), run the modules over the dump, sort the events in bounded memory and
 * hand them, in stream order, to `consume` as sort records (sort-record.ts). The caller decides
 * where they go: a data set, or JSON lines.
 */
export interface PipelineOptions {
  readonly dump: string;
  readonly modules: readonly SelectedModule[];
  readonly limit?: number;
  /** Memory budget: lookups, worker threads, the sorter and the output (memory-plan.ts). */
  readonly memoryBytes: number;
  /** Where sorted runs are spilled (removed afterwards). */
  readonly tmpDir: string;
  /** Most runs merged at once (tests lower it to exercise the multi-level merge). */
  readonly fanIn?: number;
  readonly rejects: RejectLog;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
  /** Worker threads running the modules (0: on this thread); default: workerCount(). */
  readonly workers?: number;
}

export interface PipelineResult {
  readonly stats: GenerateStats;
  /** Sorted runs spilled to disk (0: the events fit in memory). */
  readonly runs: number;
  /** Bytes held by the lookups. */
  readonly lookupBytes: number;
}

export const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;
/** The CLI refuses a smaller --memory: below it a run would spill almost every record. */
export const MIN_MEMORY_BYTES = 48 * 1024 * 1024;

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
  const modules = options.modules.map((m) => m.module);
  await checkDump(options.dump, modules);
  const totalRows = await rowsToRead(options.dump, options.modules, options.limit);
  const encoder = await EventEncoder.create(modules);
  const stats = newStats();
  const progress = new Progress({ label: 'transform', mode: options.progress });
  const started = Date.now();
  let phase: 'lookups' | 'reading' | 'writing' = 'lookups';
  let lookupRows = 0;
  let written = 0;
  progress.set(() => {
    if (phase === 'lookups') return `building lookups: ${formatCount(lookupRows)} rows`;
    const seconds = (Date.now() - started) / 1000;
    const base = `${formatCount(stats.rows)} rows, ${formatCount(stats.events)} events, ${formatCount(options.rejects.count)} rejected`;
    if (phase === 'reading') {
      const rate = stats.rows / Math.max(seconds, 0.001);
      const eta = totalRows > stats.rows && rate > 0 ? `, ETA ${formatDuration((totalRows - stats.rows) / rate)} + sort` : '';
      return `${base} of ${formatCount(totalRows)} rows, ${formatCount(rate)} rows/s${eta}`;
    }
    return `${base}; writing ${formatCount(written)}/${formatCount(stats.events)} events in order`;
  });
  let sorter: ExternalSorter | null = null;
  try {
    const built = await buildLookups(
      options.dump,
      modules.flatMap((m) => m.lookups),
      checkpoint,
      (n) => (lookupRows += n),
    );
    phase = 'reading';
    const { workers, runBytes, mergeBytes } = memoryPlan(options.memoryBytes, built.bytes, workerCount(options.modules, totalRows), options.workers);
    sorter = new ExternalSorter({
      runBytes,
      mergeBytes,
      tmpDir: options.tmpDir,
      fanIn: options.fanIn,
      checkpoint,
    });
    const active = sorter;
    const generate = {
      dump: options.dump,
      modules: options.modules,
      limit: options.limit,
      encoder,
      rejects: options.rejects,
      lookups: built.lookups,
      emit: (fields: SortFields, envelope: Uint8Array) => active.add(sortRecord(fields, envelope)),
      checkpoint,
      stats,
    };
    if (workers > 0) await generateInWorkers({ ...generate, emitFramed: (framed) => active.addFramed(framed), workers, signal: options.signal });
    else await generateEvents(generate);
    phase = 'writing';
    const counted = (async function* () {
      for await (const batch of active.sorted()) {
        checkpoint();
        yield batch;
        written += batch.length;
      }
    })();
    await consume(counted, stats);
    progress.done();
    return { stats, runs: active.runCount, lookupBytes: built.bytes };
  } catch (err) {
    progress.done('stopped');
    throw err;
  } finally {
    await sorter?.dispose();
  }
}

/** Below this many rows, starting workers (~0.3-1 s each: tsx, protobufjs, the modules) costs more than it saves. */
const WORKER_MIN_ROWS = 200_000;

/**
 * Worker threads for the modules by default: one per core (the main thread's share, sorting
 * and spilling, is small) when there are two cores or more, the dump is big enough and every
 * module is one of MODULES (a worker loads the module list by URL, not the objects).
 */
export function workerCount(modules: readonly SelectedModule[], rows: number): number {
  const cores = availableParallelism();
  if (cores < 2 || rows < WORKER_MIN_ROWS) return 0;
  if (!modules.every((m) => MODULES.includes(m.module))) return 0;
  return Math.min(cores, 4);
}

/** Rows the modules will read (for the ETA): each module reads its tables, up to --limit each. */
async function rowsToRead(dump: string, modules: readonly SelectedModule[], limit: number | undefined): Promise<number> {
  const manifest = await readManifest(dump);
  let total = 0;
  for (const { module } of modules) {
    for (const table of module.reads) {
      const records = manifest.streams[table]?.records ?? 0;
      total += limit === undefined ? records : Math.min(limit, records);
    }
  }
  return total;
}
