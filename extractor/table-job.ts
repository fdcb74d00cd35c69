import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LimitFunction } from 'p-limit';
import type { DatasetWriter, PartSnapshot, PartWriter } from '../recordfile/index.ts';
import type { TableProgress } from './progress-view.ts';
import { ChunkSizer } from './chunk-sizer.ts';
import type { RowRateLimit } from './rate-limit.ts';
import { addCounts, loneSurrogateFixer, type SurrogateCounts } from './lone-surrogates.ts';
import { rowMasker } from './masking.ts';
import { recordLayout } from './record-layout.ts';
import { MAX_RECORD_BYTES, encodedTooLarge, recordTooLarge } from './record-limit.ts';
import { rowEncoder } from './row-encoder.ts';
import type { TableShape } from './output-shape.ts';
import type { ColumnValue, EncodedBatch, KeyRange, KeyValue, Source, TableInfo } from './source.ts';

/**
 * The extraction of one table: its key ranges and how far each one got. The range states
 * live in the manifest (`streams.<Table>.info.ranges`) and are saved together with every
 * committed part, so after a kill `--resume` knows where each range stopped.
 */
export interface RangeState extends KeyRange {
  /** Last key of the last committed part of this range: reading resumes after it. */
  committedUpTo?: KeyValue;
  done: boolean;
}

/** A table described and checked against its .proto by extract.ts, before any of it is read. */
export interface PreparedTable {
  readonly info: TableInfo;
  /** Column → mask method. */
  readonly mask: Readonly<Record<string, string>>;
  /** The stream in the dump (proto-names.ts tableProtoName). */
  readonly stream: string;
  readonly protoPath: string;
  readonly messageType: string;
  readonly type: import('protobufjs').Type;
  /** What shapes the table's records (output-shape.ts): recorded, and compared on --resume. */
  readonly shape: TableShape;
}

export interface PlannedTable {
  readonly table: PreparedTable;
  readonly stream: string;
  readonly ranges: RangeState[];
  /** Parts kept from an earlier run. */
  readonly keptParts: number;
}

export const DEFAULT_MIN_ROWS_PER_RANGE = 100_000;

/**
 * Encoded bytes a page may hold when the source hands out record bytes (readEncoded): a page is
 * then one buffer, not JS values, so it may be larger than a row page (DEFAULT_CHUNK). On
 * finland's Messages 4 MB pages (~7,500 rows) rather than 1 MB took ~0.3-0.5 s less server CPU
 * per 1.2 M rows (fewer statements, each an index descent and a COPY start), same bytes.
 */
export const ENCODED_PAGE_BYTES = 4 * 1024 * 1024;

export interface JobOptions {
  /** Rows per statement; the first guess when `adaptiveBatch`. */
  readonly batchRows: number;
  /** Adapt rows per statement to keep each one at 1-2 s (one sizer per table). */
  readonly adaptiveBatch: boolean;
  /** Shared by every worker of the run. */
  readonly rateLimit?: RowRateLimit;
  readonly gzipLevel: number;
  readonly maxPartBytes: number;
  readonly signal: AbortSignal;
  /** The run's snapshot, recorded on every part it writes. */
  readonly snapshot?: PartSnapshot;
  readonly limit: LimitFunction;
  readonly view: TableProgress;
}

/** Declares the table's stream and decides its key ranges (or takes them from an interrupted run). */
export async function planTable(
  source: Source,
  dataset: DatasetWriter,
  table: PreparedTable,
  options: { concurrency?: number; minRowsPerRange?: number; redoPartial?: boolean; sourceTimezone?: string },
): Promise<PlannedTable> {
  const { info } = table;
  const stream = table.stream;
  const keyed = info.primaryKey.length > 0;
  const existing = dataset.manifest.streams[stream];
  let keptParts = existing?.parts.length ?? 0;
  let ranges = existing?.info?.ranges as RangeState[] | undefined;
  if (existing && !existing.complete && (!keyed || !ranges || options.redoPartial)) {
    // A heap table cannot continue mid-table (no key to continue after): read it again.
    // So is a table --redo-partial wants read in one snapshot.
    await Promise.all(existing.parts.map((p) => rm(join(dataset.dir, p.file), { force: true })));
    existing.parts = [];
    existing.records = 0;
    if (existing.info) delete existing.info.loneSurrogatesReplaced;
    keptParts = 0;
    ranges = undefined;
  }
  if (!ranges) {
    const concurrency = Math.max(1, options.concurrency ?? 1);
    // More ranges than workers, so a worker that finishes early takes another one; but a
    // small table is not worth splitting.
    const bySize = Math.ceil(info.estimatedRows / Math.max(1, options.minRowsPerRange ?? DEFAULT_MIN_ROWS_PER_RANGE));
    const planned = await source.planRanges(info, Math.min(concurrency > 1 ? concurrency * 2 : 1, Math.max(1, bySize)));
    ranges = planned.map((r) => ({ ...r, done: existing?.complete ?? false }));
  }
  const streamInfo = {
    table: info.qualifiedName,
    primaryKey: info.primaryKey,
    columns: info.columns.map((c) => c.name),
    ...(Object.keys(table.mask).length ? { masked: table.mask } : {}),
    shape: table.shape,
    // The IANA zone this table's naive timestamps were read in (its wall clocks → UTC).
    ...(info.columns.some((c) => c.kind === 'timestamp') ? { naiveTimestampsZone: options.sourceTimezone } : {}),
    // Each dialect says what it guaranteed (SQL Server: a snapshot per range transaction, not per run).
    consistency: source.consistency?.(info, ranges.length) ?? 'one snapshot shared by all workers of the run',
    resumableMidTable: keyed,
    ranges,
  };
  const entry = await dataset.declareStream(stream, { messageType: table.messageType, protoPath: table.protoPath, info: streamInfo });
  entry.info = { ...entry.info, ...streamInfo };
  return { table, stream, ranges, keptParts };
}

/** Reads every unfinished range of a table (at most `limit` at once over the whole run). */
export async function extractTable(source: Source, dataset: DatasetWriter, planned: PlannedTable, options: JobOptions): Promise<void> {
  // One sizer per table: what one range learnt about the server's speed serves the next.
  const sizer = options.adaptiveBatch ? new ChunkSizer({ startRows: options.batchRows }) : undefined;
  const results = await Promise.allSettled(
    planned.ranges.map((range) => (range.done ? Promise.resolve() : options.limit(() => extractRange(source, dataset, planned, range, options, sizer)))),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  options.view.done(planned.stream);
  await dataset.completeStream(planned.stream);
}

async function extractRange(source: Source, dataset: DatasetWriter, planned: PlannedTable, state: RangeState, options: JobOptions, sizer?: ChunkSizer): Promise<void> {
  options.signal.throwIfAborted();
  const { info, type } = planned.table;
  const encode = rowEncoder(info.columns, type);
  const mask = rowMasker(info, planned.table.mask, type);
  const repair = loneSurrogateFixer(info.columns);
  // Counted per part and added to the manifest with it: a part read again is not counted twice.
  let repaired: SurrogateCounts = {};
  const keyed = info.primaryKey.length > 0;
  let part: PartWriter | null = null;
  let lastKey: KeyValue | undefined;

  const commit = async () => {
    if (!part) return;
    const done = part;
    part = null;
    // A part that fails to close (a full disk) is no longer `part`: drop it here, file and handle.
    const entry = await done.close().catch(async (err: unknown) => {
      await done.abort();
      throw err;
    });
    // Set before commitPart, which saves the manifest: part and resume point land together.
    if (keyed) state.committedUpTo = lastKey;
    if (Object.keys(repaired).length) {
      const streamInfo = dataset.manifest.streams[planned.stream]!.info!;
      streamInfo.loneSurrogatesReplaced = addCounts({ ...(streamInfo.loneSurrogatesReplaced as SurrogateCounts | undefined) }, repaired);
      repaired = {};
    }
    await dataset.commitPart(planned.stream, options.snapshot ? { ...entry, snapshot: options.snapshot } : entry);
  };

  /** Appends one record; a promise only when the caller must wait (gzip behind, or a part to close). */
  const put = (message: Uint8Array, key: KeyValue | undefined): Promise<void> | undefined => {
    if (!part) return openPart().then(() => put(message, key));
    lastKey = key;
    const wait = part.write(message, keyed ? key : undefined);
    if (part.uncompressedBytes >= options.maxPartBytes) return wait ? wait.then(commit) : commit();
    return wait;
  };
  const openPart = async () => {
    part = await dataset.openPart(planned.stream, dataset.takePartIndex(planned.stream), { gzipLevel: options.gzipLevel });
  };
  /** After each page: progress, the page-size bound by bytes, throttling. */
  const pageDone = async (rows: number, bytes: number) => {
    options.view.add(planned.stream, rows, bytes);
    sizer?.observeBytes(rows, bytes);
    options.signal.throwIfAborted();
    // The next page is asked for only after the wait (the one read ahead is already on its way).
    await options.rateLimit?.take(rows, options.signal);
  };

  /**
   * Row i of a page as its record; the row is let go (the page's slot and this function's locals)
   * before the record is copied into the part: a page of large values does not hold each value
   * and its record and the part's copy at once.
   */
  const encodeRow = (rows: (ColumnValue[] | null)[], i: number, key: KeyValue | undefined): Uint8Array => {
    const row = rows[i]!;
    repair(row, repaired);
    if (mask) mask(row);
    const message = encode(row);
    if (message.length > MAX_RECORD_BYTES) throw recordTooLarge(info, key, message.length, row);
    rows[i] = null;
    return message;
  };

  const after = state.committedUpTo ?? state.after;
  const range: KeyRange = { ...(after ? { after } : {}), ...(state.upTo ? { upTo: state.upTo } : {}) };
  const readOptions = { batchRows: options.batchRows, signal: options.signal, ...(sizer ? { chunkSize: sizer } : {}) };
  try {
    const layout = source.readEncoded ? recordLayout(info, type, planned.table.mask) : null;
    const encoded = layout ? source.readEncoded!(info, range, readOptions, layout) : null;
    if (encoded) {
      sizer?.setMaxPageBytes(ENCODED_PAGE_BYTES);
      // Records arrive as bytes (the source encoded and masked them; its text is valid UTF-8).
      for await (const batch of encoded) {
        const { bytes, ends, keys } = batch;
        if (bytes.length > MAX_RECORD_BYTES) checkRecordSizes(batch, info, type);
        // As put() for each record, a run of records at a time (no view and call per record):
        // the part ends after the record that fills it.
        let i = 0;
        while (i < ends.length) {
          if (!part) await openPart();
          const p: PartWriter = part!;
          const next = p.writeRecords(bytes, ends, i, ends.length, options.maxPartBytes);
          if (keyed) p.noteKeys(keys[i], keys[next - 1]);
          lastKey = keys[next - 1];
          i = next;
          if (p.backlog) await p.backlog;
          if (p.uncompressedBytes >= options.maxPartBytes) await commit();
        }
        await pageDone(ends.length, bytes.length);
      }
    } else {
      for await (const batch of source.readRange(info, range, readOptions)) {
        let bytes = 0;
        const rows = batch.rows as (ColumnValue[] | null)[];
        for (let i = 0; i < rows.length; i++) {
          const message = encodeRow(rows, i, batch.keys[i]);
          bytes += message.length;
          const wait = put(message, batch.keys[i]);
          if (wait) await wait;
        }
        await pageDone(rows.length, bytes);
      }
    }
    await commit();
    state.done = true;
    await dataset.saveManifest();
  } catch (err) {
    // Nothing half-written stays behind looking complete.
    await (part as PartWriter | null)?.abort();
    throw err;
  }
}

/** Only for a page over the limit as a whole (rare): any one record over it stops the run. */
function checkRecordSizes(batch: EncodedBatch, info: PreparedTable['info'], type: PreparedTable['type']): void {
  let start = 0;
  for (let i = 0; i < batch.ends.length; i++) {
    const end = batch.ends[i]!;
    if (end - start > MAX_RECORD_BYTES) throw encodedTooLarge(info, batch.keys[i], batch.bytes.subarray(start, end), type);
    start = end;
  }
}
