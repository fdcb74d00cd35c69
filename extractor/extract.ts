import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, openSource } from './open-source.ts';
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { SeedlineError, isSeedlineError } from '../common/errors.ts';
import { Progress } from '../common/progress.ts';
import { VERSION } from '../common/version.ts';
import { DEFAULT_MAX_PART_BYTES, DatasetWriter, lockDataset, outputError, readManifest, type Manifest, type Producer } from '../recordfile/index.ts';
import { assertSameShape, runShape, tableShape } from './output-shape.ts';
import { partSnapshot, snapshotSpans, type SnapshotSpan } from './snapshots.ts';
import { LEGACY_SCHEMAS_DIR, assertNoDrift, loadLegacySchema } from './legacy-schema.ts';
import { assertSupported } from './postgres-catalog.ts';
import { tableProtoName } from './proto-names.ts';
import { expandTableGlobs } from './table-globs.ts';
import { DEFAULT_CHUNK } from './chunk-sizer.ts';
import { checkMasks } from './masking.ts';
import { TableProgress } from './progress-view.ts';
import { RowRateLimit } from './rate-limit.ts';
import { extractTable, planTable, type PlannedTable, type PreparedTable } from './table-job.ts';
import type { Source, TableInfo } from './source.ts';

/** One table to extract: `dbo.Members`, optionally with its own .proto and columns left out. */
export interface TableSpec {
  readonly name: string;
  /** Path of the .proto; default `<schemasDir>/<Table>.proto`. */
  readonly proto?: string;
  /** Columns not to extract (personal data that need not leave production). */
  readonly exclude?: readonly string[];
  /** Columns extracted as a hash of their value, e.g. `{ Email: 'sha256' }` (masking.ts). */
  readonly mask?: Readonly<Record<string, string>>;
}

export interface ExtractOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly source: string;
  readonly tables: readonly (string | TableSpec)[];
  /** The dump directory. */
  readonly out: string;
  /** IANA zone of naive `timestamp` columns; required when any extracted table has one. */
  readonly sourceTimezone?: string;
  readonly schemasDir?: string;
  readonly gzipLevel?: number;
  /**
   * Rows per statement, fixed. Left out, the size adapts so each statement takes 1-2 s on
   * the server (mydumper's rule, see chunk-sizer.ts).
   */
  readonly batchRows?: number;
  /** Connections reading key ranges in parallel, all in the same snapshot. Default 1. */
  readonly concurrency?: number;
  /** MS SQL only: read with READ COMMITTED when the database does not allow SNAPSHOT (recorded in the manifest). */
  readonly allowReadCommitted?: boolean;
  /** MS SQL only: a single larger value is refused (VALUE_TOO_LARGE) before the driver buffers it. */
  readonly maxValueBytes?: number;
  /** Rows read per second over all workers together; default unlimited. */
  readonly maxRowsPerSecond?: number;
  readonly maxPartBytes?: number;
  /** A table is split into key ranges of at least this many (estimated) rows. */
  readonly minRowsPerRange?: number;
  readonly overwrite?: boolean;
  /** Continue an interrupted dump: complete parts are kept, the rest is read again. */
  readonly resume?: boolean;
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  /** Longest wait for each table's lock at the start (and any statement's); default 30 s. */
  readonly lockTimeoutMs?: number;
  /** With `resume`: tables an earlier run left half done are read again whole, in this run's snapshot. */
  readonly redoPartial?: boolean;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
  /** Another adapter (tests, MS SQL); default: chosen by the URL's scheme. */
  readonly openSource?: (options: ExtractOptions) => Source | Promise<Source>;
}

export interface TableSummary {
  readonly table: string;
  /** The stream in the dump: the bare table name. */
  readonly stream: string;
  readonly rows: number;
  readonly parts: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** Parts kept from an earlier, interrupted run. */
  readonly keptParts: number;
  /** Values per column whose lone surrogates became U+FFFD (lone-surrogates.ts); {} when none. */
  readonly loneSurrogatesReplaced: Readonly<Record<string, number>>;
}

export interface ExtractResult {
  readonly dir: string;
  readonly complete: boolean;
  readonly source: Source['description'];
  readonly snapshot: Record<string, unknown>;
  readonly tables: readonly TableSummary[];
  readonly elapsedMs: number;
  /** Streams whose parts were read in more than one snapshot (kept parts of a resumed run). */
  readonly snapshotSpans: readonly SnapshotSpan[];
  /** Things the user should know that are no error, e.g. a stale lock taken over. */
  readonly notes: readonly string[];
}

export const DEFAULT_CONCURRENCY = 1;
export { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, openSource };
/**
 * gzip level 1: on the finland Messages it compresses ~4x faster than level 6 for an 11%
 * bigger dump (243 vs 219 MB), and compression is most of what extraction costs the client
 * (BENCHMARKS.md, "Extract"). A shorter run also holds the production snapshot for less time.
 */
export const DEFAULT_GZIP_LEVEL = 1;

/**
 * Extracts tables into a dump: one stream per table named by the bare table name, each
 * checked against its reviewed .proto before a row is read. Every connection reads inside
 * one exported snapshot; parts are committed to the manifest as they complete, so an
 * interrupted run leaves `complete: false` and `resume` picks up from the last part.
 */
export async function extract(options: ExtractOptions): Promise<ExtractResult> {
  const specs = validate(options);
  // One run per dump at a time: a second --resume would write into the same parts.
  const lock = await lockDataset(options.out, 'extract').catch((err: unknown) => {
    throw outputError(err, options.out) ?? err;
  });
  try {
    return await extractLocked(options, specs, lock.note ? [lock.note] : []);
  } catch (err) {
    throw outputError(err, options.out) ?? err;
  } finally {
    await lock.release();
  }
}

async function extractLocked(options: ExtractOptions, specs: TableSpec[], notes: string[]): Promise<ExtractResult> {
  const started = Date.now();
  const source = await (options.openSource ? options.openSource(options) : openSource(options));
  const signal = options.signal;
  let dataset: DatasetWriter | null = null;
  let view: TableProgress | null = null;
  const progress = new Progress({ label: 'extract', mode: options.progress ?? 'auto' });
  try {
    const snapshot = { ...(await source.connect()), at: new Date().toISOString() };
    const tables = await prepareTables(source, specs, options, notes);
    // Before a row is read (planning samples keys) and before the old dump is touched.
    await source.lockTables?.(tables.map((t) => t.info), options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
    signal?.throwIfAborted();
    const shape = runShape(options.sourceTimezone);
    dataset = options.resume
      ? await resumeDataset(options.out, source, (manifest) => assertSameShape(manifest, options.out, shape, new Map(tables.map((t) => [t.stream, t.shape]))))
      : await DatasetWriter.create(options.out, producer(source, snapshot, { ...shape }), { overwrite: options.overwrite ?? false });
    if (options.resume) {
      const earlier = dataset.manifest.producer.snapshot;
      dataset.manifest.producer.snapshot = { ...snapshot, resumedFrom: earlier };
    }
    const limit = pLimit(Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY));
    const inner = new AbortController();
    const onAbort = () => inner.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const planned: PlannedTable[] = [];
    for (const t of tables) planned.push(await planTable(source, dataset, t, options));
    const runSnapshot = partSnapshot(snapshot);
    const ds = dataset;
    view = new TableProgress(planned.map((p) => ({ name: p.stream, estimatedRows: p.table.info.estimatedRows, keptRows: ds.manifest.streams[p.stream]?.records ?? 0 })));
    const shown = view;
    progress.set(() => shown.render());
    const jobOptions = {
      batchRows: options.batchRows ?? DEFAULT_CHUNK.startRows,
      adaptiveBatch: options.batchRows === undefined,
      ...(options.maxRowsPerSecond !== undefined ? { rateLimit: new RowRateLimit(options.maxRowsPerSecond) } : {}),
      gzipLevel: options.gzipLevel ?? DEFAULT_GZIP_LEVEL,
      maxPartBytes: options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES,
      signal: inner.signal,
      snapshot: runSnapshot,
      limit,
      view: shown,
    };
    const results = await Promise.allSettled(
      planned.map((p) =>
        extractTable(source, dataset!, p, jobOptions).catch((err: unknown) => {
          inner.abort(err); // one table failing stops the others: the run is not complete either way
          throw err;
        }),
      ),
    );
    signal?.removeEventListener('abort', onAbort);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const spans = snapshotSpans(dataset.manifest);
    for (const span of spans) {
      const info = dataset.manifest.streams[span.stream]?.info;
      if (info) info.consistency = `${span.snapshots.length} snapshots: parts kept from an interrupted run and parts read after --resume (see each part's "snapshot")`;
    }
    await dataset.finish();
    progress.done(shown.render());
    const manifest = dataset.manifest;
    return {
      dir: resolve(options.out),
      complete: manifest.complete,
      source: source.description,
      snapshot,
      elapsedMs: Date.now() - started,
      snapshotSpans: spans,
      notes,
      tables: planned.map((p) => {
        const stream = manifest.streams[p.stream]!;
        return {
          table: p.table.info.qualifiedName,
          stream: p.stream,
          rows: stream.records,
          parts: stream.parts.length,
          compressedBytes: stream.parts.reduce((n, part) => n + part.compressedBytes, 0),
          uncompressedBytes: stream.parts.reduce((n, part) => n + part.uncompressedBytes, 0),
          keptParts: p.keptParts,
          loneSurrogatesReplaced: (stream.info?.loneSurrogatesReplaced as Record<string, number> | undefined) ?? {},
        };
      }),
    };
  } catch (err) {
    // Before the dump started there is no progress to report; after, show how far it got.
    progress.done(view ? `stopped at ${view.render()}` : '');
    if (dataset) await dataset.saveManifest().catch(() => {});
    if (signal?.aborted && !isSeedlineError(err, 'INTERRUPTED')) {
      throw new SeedlineError('INTERRUPTED', `extract was interrupted; ${options.out} is incomplete (manifest.complete = false)`, {
        file: options.out,
        hint: 'run the same command with --resume to continue where it stopped',
      }, { cause: err });
    }
    throw err;
  } finally {
    await source.close();
  }
}

/** Describes every table and checks it against its .proto before anything is written. */
async function prepareTables(source: Source, given: readonly TableSpec[], options: ExtractOptions, notes: string[]): Promise<PreparedTable[]> {
  const out: PreparedTable[] = [];
  const all = await source.listTables();
  // `dbo.*`: every table and view of the schema, partitions left out (their parent reads them).
  const expanded = expandTableGlobs(given, (s) => s.name, (s, name) => ({ ...s, name }), all);
  notes.push(...expanded.notes);
  const specs = expanded.items;
  for (const spec of specs) {
    const full = await source.describeTable(spec.name);
    const unknown = (spec.exclude ?? []).filter((c) => !full.columns.some((col) => col.name === c));
    if (unknown.length) {
      throw new SeedlineError('CONFIG_INVALID', `${full.qualifiedName} has no column ${unknown.join(', ')} to exclude`, {
        table: full.qualifiedName,
        column: unknown[0],
        hint: `its columns are ${full.columns.map((c) => c.name).join(', ')}`,
      });
    }
    if (spec.exclude?.some((c) => full.primaryKey.includes(c))) {
      throw new SeedlineError('CONFIG_INVALID', `${full.qualifiedName}: primary key columns cannot be excluded`, { table: full.qualifiedName });
    }
    const info: TableInfo = { ...full, columns: full.columns.filter((c) => !spec.exclude?.includes(c.name)) };
    assertSupported(info);
    checkMasks(info, spec.mask ?? {});
    // Stream, file and message name: the table's name as an identifier, schema-qualified where two schemas share it.
    const stream = tableProtoName(info, all);
    const schema = await loadLegacySchema(stream, options.schemasDir ?? LEGACY_SCHEMAS_DIR, spec.proto, info.qualifiedName);
    assertNoDrift(info, schema, spec.exclude, Object.keys(spec.mask ?? {}));
    const shape = await tableShape({ table: full.qualifiedName, messageType: schema.messageType, protoPath: schema.protoPath, excluded: spec.exclude ?? [], masked: spec.mask ?? {} });
    out.push({ info, mask: spec.mask ?? {}, stream, ...schema, shape });
  }
  const bare = new Map<string, string>();
  for (const t of out) {
    const other = bare.get(t.stream);
    if (other) throw new SeedlineError('USAGE', `${other} and ${t.info.qualifiedName} would both be stream ${t.stream}`, { hint: 'name each table once' });
    bare.set(t.stream, t.info.qualifiedName);
  }
  const naive = out.flatMap((t) => t.info.columns.filter((c) => c.kind === 'timestamp').map((c) => `${t.info.qualifiedName}.${c.name}`));
  if (naive.length && options.sourceTimezone === undefined) {
    throw new SeedlineError('USAGE', `columns without a time zone need --source-timezone: ${naive.join(', ')}`, {
      option: 'source-timezone',
      column: naive[0],
      hint: 'pass the zone the legacy server wrote local times in, e.g. --source-timezone Europe/Helsinki (there is no default on purpose)',
    });
  }
  return out;
}

/** `check` sees the manifest before anything in `out` is touched (a refused resume changes nothing). */
async function resumeDataset(out: string, source: Source, check: (manifest: Manifest) => void): Promise<DatasetWriter> {
  check(await readManifest(out));
  const dataset = await DatasetWriter.resume(out);
  const was = dataset.manifest.producer.source as Record<string, unknown> | undefined;
  const now = source.description;
  if (dataset.manifest.producer.stage !== 'extract' || !was || was.host !== now.host || was.port !== now.port || was.database !== now.database) {
    throw new SeedlineError('USAGE', `${out} was not extracted from ${now.dialect}://${now.host}:${now.port}/${now.database}: cannot resume it from there`, {
      file: out,
      option: 'resume',
      hint: 'point --source at the database the dump came from, or start a new dump with --overwrite',
    });
  }
  return dataset;
}

function producer(source: Source, snapshot: Record<string, unknown>, options: Record<string, unknown>): Producer {
  return { tool: 'seedline', version: VERSION, stage: 'extract', source: { ...source.description }, startedAt: new Date().toISOString(), snapshot, options };
}

function validate(o: ExtractOptions): TableSpec[] {
  const usage = (option: string, message: string, hint: string) => new SeedlineError('USAGE', message, { option, hint });
  if (!o.source) throw usage('source', 'no source database given', 'pass --source postgres://user@host:5432/database, or set "source" in the config file');
  if (!o.out) throw usage('out', 'no output directory given', 'pass --out dump');
  if (!o.tables.length) throw usage('tables', 'no tables to extract', 'name them on the command line (seedline extract dbo.Members dbo.Messages) or in the config file');
  if (o.gzipLevel !== undefined && !(Number.isInteger(o.gzipLevel) && o.gzipLevel >= 0 && o.gzipLevel <= 9)) {
    throw usage('gzip-level', `--gzip-level must be an integer from 0 to 9, got ${o.gzipLevel}`, 'level 1 is fastest, 9 smallest');
  }
  for (const [option, v] of [['batch-rows', o.batchRows], ['concurrency', o.concurrency], ['max-rows-per-second', o.maxRowsPerSecond], ['statement-timeout', o.statementTimeoutMs], ['lock-timeout', o.lockTimeoutMs]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw usage(option, `--${option} must be a positive integer, got ${v}`, `leave --${option} out for the default`);
  }
  if (o.redoPartial && !o.resume) throw usage('redo-partial', '--redo-partial only applies to --resume', 'add --resume, or leave --redo-partial out');
  if (o.resume && o.overwrite) throw usage('resume', '--resume and --overwrite contradict each other', 'use --resume to continue a dump, --overwrite to start it again');
  return o.tables.map((t) => (typeof t === 'string' ? { name: t } : t));
}
