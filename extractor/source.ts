import type { RecordLayout } from './record-layout.ts';
import type { ColumnValue, TableInfo, TableRef } from './columns.ts';

/**
 * The one small interface every source database adapter implements (one file per dialect:
 * postgres-source.ts, later mssql-source.ts). Dialect differences — quoting, LIMIT/TOP,
 * snapshot set-up, how a value is turned into its exact text — stay inside the adapter.
 * What leaves it is already in the shape of the type mapping (extractor/README.md).
 */

export * from './columns.ts';

/**
 * A key value as the database's own text for it (the adapter binds it back with its exact
 * SQL type, so the server does every comparison: collations, uuid ordering, ...).
 * A whole key is one text per primary-key column. JSON-safe, so it goes into the manifest.
 */
export type KeyValue = readonly string[];

/** Rows with key > `after` (exclusive) and key <= `upTo` (inclusive); undefined = unbounded. */
export interface KeyRange {
  readonly after?: KeyValue;
  readonly upTo?: KeyValue;
}

export interface ReadOptions {
  /** Rows per statement (keyset page); with `chunkSize`, only the first guess. */
  readonly batchRows: number;
  /**
   * Optional: when given, each statement asks for `chunkSize.rows` rows and reports how
   * long it took with `observe`, so the size adapts to the server (chunk-sizer.ts).
   * An adapter that ignores it reads `batchRows` per statement, which is also correct.
   */
  readonly chunkSize?: { readonly rows: number; observe(asked: number, returned: number, ms: number): void };
  readonly signal?: AbortSignal;
}

/**
 * One page of rows: values in `TableInfo.columns` order, and each row's key. The consumer owns
 * the arrays: it may change a row (masks) and let go of it (its slot set to null) once encoded.
 */
export interface RowBatch {
  readonly rows: readonly (readonly ColumnValue[])[];
  readonly keys: readonly KeyValue[];
}

/**
 * One page of rows already encoded as the table's protobuf messages (`Source.readEncoded`):
 * the bytes rowEncoder would give for the same rows, back to back, without length prefixes.
 */
export interface EncodedBatch {
  /** Valid until the next batch is asked for: an adapter may reuse the memory. */
  readonly bytes: Buffer;
  /** Where each record ends in `bytes`; record i starts where record i - 1 ends (the first at 0). */
  readonly ends: readonly number[];
  readonly keys: readonly KeyValue[];
}

export interface SnapshotInfo {
  /**
   * What tells this database apart from every other, JSON: PostgreSQL
   * `{ systemIdentifier, database }`; SQL Server should give `{ server, database }`. Recorded in
   * the manifest (producer.snapshot); `verify --source` refuses a source whose identity differs.
   * An adapter that gives none is not checked.
   */
  readonly sourceIdentity?: Readonly<Record<string, unknown>>;
  /** What every reader of this run sees, e.g. `{ isolation: 'repeatable read', exported: '00000003-...' }`. */
  readonly [key: string]: unknown;
}

/** What `seedline verify --source` compares with a dump, read in the source's consistent view. */
export interface TableCount {
  readonly rows: number;
  /**
   * Sum of the key's values as decimal text, when the primary key is one integer column
   * (cheap: the server adds them up in the same scan as the count); absent otherwise.
   */
  readonly keySum?: string;
}

export interface Source {
  readonly dialect: 'postgres' | 'mssql';
  /** Where the data comes from, credentials removed: safe to print and to write to a manifest. */
  readonly description: { readonly dialect: string; readonly host: string; readonly port: number; readonly database: string };

  /** Connects and opens the read-only, consistent view every later read uses. */
  connect(): Promise<SnapshotInfo>;
  close(): Promise<void>;

  /** Every user table (for suggestions when a name is wrong, and for `seedline schema`). */
  listTables(): Promise<TableRef[]>;
  /** Columns and primary key; TABLE_NOT_FOUND (with similar names) when it does not exist. */
  describeTable(qualifiedName: string): Promise<TableInfo>;
  /** Splits a table into about `parts` contiguous key ranges covering all of it, cheaply. */
  planRanges(table: TableInfo, parts: number): Promise<KeyRange[]>;
  /**
   * Reads a key range page by page in key order (keyset pagination, never OFFSET). The next
   * page is fetched only when the consumer asks for it: backpressure for free. A table
   * without a primary key is read in one pass and only with the unbounded range.
   * Only `table.columns` are read: pass a copy with fewer columns to leave some out.
   */
  readRange(table: TableInfo, range: KeyRange, options: ReadOptions): AsyncGenerator<RowBatch>;
  /**
   * Optional fast path: the same pages as `readRange`, already encoded by `layout`
   * (record-layout.ts, masks included), byte for byte what rowEncoder makes of readRange's
   * rows; only for a source whose text is always valid UTF-8 (nothing for lone-surrogates.ts
   * to repair). Returns null when this adapter, server or table cannot (then read rows).
   */
  readEncoded?(table: TableInfo, range: KeyRange, options: ReadOptions, layout: RecordLayout): AsyncGenerator<EncodedBatch> | null;
  /**
   * Optional: what the stream of this table, read as `ranges` key ranges, can promise (written
   * to the manifest). Without it: one snapshot shared by all workers of the run.
   */
  consistency?(table: TableInfo, ranges: number): string;
  /**
   * Optional: holds the tables against concurrent TRUNCATE / ALTER … TYPE / DROP until the run
   * ends (PostgreSQL: ACCESS SHARE, as pg_dump), waiting at most `lockTimeoutMs` per table;
   * then SOURCE_LOCKED naming the table and the session holding it. Called once, after
   * describeTable and before any row is read.
   */
  lockTables?(tables: readonly TableInfo[], lockTimeoutMs: number): Promise<void>;
  /** Optional (verify says so when an adapter lacks it): rows of the table, and the key sum where cheap. */
  countRows?(table: TableInfo): Promise<TableCount>;
}
