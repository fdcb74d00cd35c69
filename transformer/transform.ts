import { copyFile, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { DEFAULT_MAX_PART_BYTES, lockDataset, moduleStreamName, readManifest } from '../recordfile/index.ts';
import { payloadProtoPath } from './event-encoder.ts';
import { openEventsOutput, orderModuleStreams } from './events-output.ts';
import { checkDump } from './generate.ts';
import { checkTransformOutput } from './output-guard.ts';
import { DEFAULT_MEMORY_BYTES, runPipeline } from './pipeline.ts';
import { RejectLog, type RejectCounts } from './rejects.ts';
import { ModuleStreams } from './module-streams.ts';
import { resolveModules, selectModules } from './select-modules.ts';

/**
 * `seedline transform`: a dump data set → an events data set of `seedline.events.Event`
 * envelopes ordered by occurred_at (ties: sort-record.ts), one stream per module
 * (`events.<module>`, merged into that one order by every reader: recordfile/merged-events.ts);
 * `--module` on an existing data set rewrites only those modules' streams (events-output.ts). The data
 * set's `schemas/` holds envelope.proto and every payload .proto, so it decodes without this
 * repository. Rejected rows go to `<out>/rejects/<module>.jsonl` (rejects.ts).
 */
export interface TransformOptions {
  /** The dump data set (directory with manifest.json) written by extract. */
  readonly dump: string;
  /** The events data set to write. */
  readonly out: string;
  /** Module names; all when absent or empty. */
  readonly modules?: readonly string[];
  /** Read at most this many rows of each table (per module): quick iterations on a big dump. */
  readonly limit?: number;
  /** Memory budget for ordering, bytes (default 512 MB). Beyond it, sorted runs spill to disk. */
  readonly memoryBytes?: number;
  /** Replace a complete events data set in `out`. */
  readonly overwrite?: boolean;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
  /** A part is closed at this many uncompressed bytes (default 64 MB). */
  readonly maxPartBytes?: number;
  /** Most sorted runs merged at once (default 64). */
  readonly fanIn?: number;
  /** Stop with TOO_MANY_REJECTS at the reject after this many (default: no limit). */
  readonly maxRejects?: number;
  /** gzip level 0-9 of the events parts (default DEFAULT_EVENTS_GZIP_LEVEL). */
  readonly gzipLevel?: number;
  /**
   * Worker threads running the modules, one dump part each at a time; 0 runs them on this
   * thread. Default: one per core for a dump of 200,000 rows or more (pipeline.ts). The
   * output is the same for any number.
   */
  readonly workers?: number;
}

export interface TransformResult {
  readonly out: string;
  readonly events: number;
  /** Event type → count, sorted by type. */
  readonly eventsByType: Record<string, number>;
  readonly rows: number;
  readonly rowsByTable: Record<string, number>;
  readonly rejects: number;
  /** Module → reason → count. */
  readonly rejectsByModule: RejectCounts;
  /** `<out>/rejects`, or null when no row was rejected. */
  readonly rejectsDir: string | null;
  /** Modules not run because the dump lacks their tables (only when no module was named). */
  readonly skippedModules: readonly { readonly module: string; readonly missingTables: readonly string[] }[];
  /** Modules of the existing data set in `out` left as they were (an incremental run: --module). */
  readonly keptModules: readonly string[];
  readonly parts: number;
  /** Sorted runs spilled to disk (0 when the events fit in the memory budget). */
  readonly sortRuns: number;
  readonly elapsedMs: number;
}


/**
 * Events are local files, regenerated many times a day: level 1 makes the whole transform
 * about 1.6x faster than level 6 (small fixture: 3.1 s → 1.9 s) for a 10% bigger output.
 */
export const DEFAULT_EVENTS_GZIP_LEVEL = 1;

/**
 * The order of one module's stream. The data set's order adds the module's position
 * (info.moduleIndex) after occurred_at: readers merge the streams by (occurred_at, moduleIndex).
 */
export const STREAM_ORDER = 'occurred_at, source table, source primary key, event position within its row, envelope bytes';

export async function transform(options: TransformOptions): Promise<TransformResult> {
  const started = performance.now();
  selectModules(options.modules); // an unknown name is a USAGE error before anything is read
  const memoryBytes = checkMemory(options.memoryBytes ?? DEFAULT_MEMORY_BYTES);
  checkLimit(options.limit);
  checkMaxRejects(options.maxRejects);
  checkWorkers(options.workers);
  // Check the dump before touching `out`: a typo in --dump must not cost an --overwrite'd data set.
  const { selected: modules, skipped } = await resolveModules(options.dump, options.modules);
  await checkDump(options.dump, modules.map((m) => m.module));
  await checkTransformOutput(options.dump, options.out);
  const lock = await lockDataset(options.out, 'transform'); // one run per data set at a time
  const output = await openEventsOutput({
    out: options.out,
    dump: options.dump,
    selected: modules,
    named: (options.modules?.length ?? 0) > 0,
    limit: options.limit,
    overwrite: options.overwrite,
    skippedModules: skipped,
  }).catch(async (err: unknown) => {
    await lock.release();
    throw err;
  });
  const dataset = output.dataset;
  const rejects = new RejectLog(join(options.out, 'rejects'), { maxRejects: options.maxRejects });
  let streams: ModuleStreams | null = null;
  let parts = 0;
  try {
    const { stats, runs } = await runPipeline(
      {
        dump: options.dump,
        modules,
        limit: options.limit,
        memoryBytes,
        tmpDir: join(options.out, '.sort-runs'),
        fanIn: options.fanIn,
        rejects,
        progress: options.progress,
        signal: options.signal,
        workers: options.workers,
      },
      async (sorted) => {
        const writers = await ModuleStreams.open(dataset, modules, {
          maxPartBytes: options.maxPartBytes,
          gzipLevel: options.gzipLevel ?? DEFAULT_EVENTS_GZIP_LEVEL,
          // One module: its stream may gzip two parts at once. Several: their streams already gzip side by side.
          parallelParts: modules.length === 1 ? outputParallelism(memoryBytes, options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES) : 1,
        });
        streams = writers;
        for await (const batch of sorted) {
          for (const record of batch) {
            const wait = writers.write(record);
            if (wait) await wait;
          }
        }
      },
    );
    const payloadProtos = await copyPayloadProtos(options.out, modules.map((m) => payloadProtoPath(m.module)));
    const dumpManifest = await readManifest(options.dump);
    const rowsRead = (table: string) => Math.min(options.limit ?? Infinity, dumpManifest.streams[table]?.records ?? 0);
    await rejects.close();
    const eventsByType = sortedRecord(stats.eventsByType);
    const rejectsByModule = rejects.byModule();
    await streams!.close((m) => ({
      order: STREAM_ORDER,
      payloadProto: payloadProtos[modules.indexOf(m)],
      eventsByType: ofModule(eventsByType, m.module.name),
      rowsByTable: Object.fromEntries(m.module.reads.map((t) => [t, rowsRead(t)])),
      rejects: rejectsByModule[m.module.name] ?? {},
      // Per module and table: rows read, became events, rejected, dropped (what seedline ledger balances).
      rowsByModule: { [m.module.name]: stats.rowsByModule[m.module.name] ?? {} },
      ...(options.limit !== undefined ? { limitPerTable: options.limit } : {}),
    }));
    orderModuleStreams(dataset);
    await dataset.finish();
    parts = modules.reduce((n, m) => n + (dataset.manifest.streams[moduleStreamName(m.module.name)]?.parts.length ?? 0), 0);
    return {
      out: options.out,
      events: stats.events,
      eventsByType,
      rows: stats.rows,
      rowsByTable: sortedRecord(stats.rowsByTable),
      rejects: rejects.count,
      rejectsByModule,
      rejectsDir: rejects.directory,
      skippedModules: skipped,
      keptModules: output.kept,
      parts,
      sortRuns: runs,
      elapsedMs: Math.round(performance.now() - started),
    };
  } catch (err) {
    // The manifest stays incomplete, so nothing half-written looks finished.
    await (streams as ModuleStreams | null)?.abort().catch(() => {});
    await rejects.close().catch(() => {});
    throw err;
  } finally {
    await lock.release();
  }
}

/**
 * Parts gzipped at once. gzip of the events is the biggest single cost of a transform
 * (level 1: ~8 CPU-s of the finland dump's 975 MB). A part's segments already compress two at
 * a time, but two parts at once still measured faster (finland CLI: 16.8-17.0 s vs 18.3-19.9 s,
 * 20-50 MB more RSS), so two parts when there are two cores and the budget holds two parts'
 * bytes waiting for gzip (a quarter of it, at most).
 */
export function outputParallelism(memoryBytes: number, maxPartBytes: number): number {
  if (availableParallelism() < 2) return 1;
  return 2 * maxPartBytes <= memoryBytes / 4 ? 2 : 1;
}

async function copyPayloadProtos(out: string, files: readonly string[]): Promise<string[]> {
  await mkdir(join(out, 'schemas'), { recursive: true });
  for (const file of new Set(files)) await copyFile(file, join(out, 'schemas', basename(file)));
  return files.map((file) => `schemas/${basename(file)}`);
}

/** The counts of the event types a module emits (`<module>.…`). */
function ofModule(byType: Record<string, number>, module: string): Record<string, number> {
  return Object.fromEntries(Object.entries(byType).filter(([type]) => type.startsWith(`${module}.`)));
}

function sortedRecord(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, record[k]!]));
}

function checkMemory(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new SeedlineError('USAGE', `memory budget must be a positive number of bytes, got ${bytes}`, { option: '--memory' });
  }
  return bytes;
}

export function checkMaxRejects(max: number | undefined): void {
  if (max !== undefined && (!Number.isInteger(max) || max < 0)) {
    throw new SeedlineError('USAGE', `max-rejects must be a whole number ≥ 0, got ${max}`, { option: '--max-rejects' });
  }
}

function checkWorkers(workers: number | undefined): void {
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0 || workers > 64)) {
    throw new SeedlineError('USAGE', `workers must be a whole number from 0 to 64, got ${workers}`, { option: '--workers' });
  }
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new SeedlineError('USAGE', `limit must be a whole number of rows ≥ 0, got ${limit}`, { option: '--limit' });
  }
}
