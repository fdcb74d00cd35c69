import type { RecordLayout } from './record-layout.ts';

/**
 * The one small interface every source database adapter implements (one file per dialect:
 * postgres-source.ts, later mssql-source.ts). Dialect differences — quoting, LIMIT/TOP,
 * snapshot set-up, how a value is turned into its exact text — stay inside the adapter.
 * What leaves it is already in the shape of the type mapping (extractor/README.md).
 */

/**
 * How a column is carried in a record (the type tables in extractor/README.md). The adapter
 * decides the kind from the catalog and hands out values of the matching JS shape:
 *
 * | kind        | JS value            | protobuf            |
 * |-------------|---------------------|---------------------|
 * | int32       | number              | int32               |
 * | int64       | decimal string      | int64               |
 * | bool        | boolean             | bool                |
 * | decimal     | exact decimal text  | string              |
 * | float       | number              | float               |
 * | double      | number              | double              |
 * | string      | string              | string              |
 * | bytes       | Buffer              | bytes               |
 * | uuid        | lowercase string    | string              |
 * | date        | 'YYYY-MM-DD' (other years, infinity: pg-values.ts isoDate) | string |
 * | timestamp   | decimal string: µs since epoch UTC, converted from the source time zone | int64 |
 * | timestamptz | decimal string: µs since epoch UTC | int64 |
 * | interval    | PgIntervalValue     | message Interval { months, days, microseconds } |
 * | array       | PgArrayValue        | message <Element>Array { repeated values, null_indexes, dims, lower_bounds } |
 *
 * Infinite timestamps are int64's extremes (infinity: 2^63 - 1, -infinity: -2^63).
 */
export const COLUMN_KINDS = [
  'int32',
  'int64',
  'bool',
  'decimal',
  'float',
  'double',
  'string',
  'bytes',
  'uuid',
  'date',
  'timestamp',
  'timestamptz',
  'interval',
  'array',
] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

/** How the elements of an `array` column are carried (the kinds with a scalar field type of their own). */
export const ARRAY_ELEMENT_KINDS = ['int32', 'int64', 'bool', 'float', 'double', 'string', 'bytes'] as const;
export type ArrayElementKind = (typeof ARRAY_ELEMENT_KINDS)[number];

/** An interval exactly as the server keeps it (no month is 30 days, no day 24 hours). */
export interface PgIntervalValue {
  readonly months: number;
  readonly days: number;
  /** int64 as decimal text. */
  readonly microseconds: string;
}

/** An array's elements in row-major order; see pg-values.ts decodeArray for the NULL convention. */
export interface PgArrayValue {
  readonly values: readonly (number | string | boolean | Buffer)[];
  readonly null_indexes?: readonly number[];
  readonly dims?: readonly number[];
  readonly lower_bounds?: readonly number[];
}

export type ColumnValue = number | string | boolean | Buffer | PgIntervalValue | PgArrayValue | null;

export interface ColumnInfo {
  readonly name: string;
  /** The type as the database spells it, e.g. `character varying(50)`: for messages and .proto comments. */
  readonly sqlType: string;
  readonly nullable: boolean;
  /** null: no mapping for this type; the adapter refuses to read it (UNSUPPORTED_TYPE). */
  readonly kind: ColumnKind | null;
  /** For kind `array`: how each element is carried. */
  readonly arrayOf?: ArrayElementKind;
  /**
   * What else a reader of the .proto should know: what the mapping loses (`datetime2(7)`: 100 ns
   * cut), enum labels, …; written as a comment (and in the manifest).
   */
  readonly note?: string;
}

export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** A partition of a partitioned table (PostgreSQL): the parent's `schema.name`. Its rows are read with the parent's. */
  readonly partitionOf?: string;
  /** A view (no key: read in one ordered pass, not resumable mid-table). */
  readonly isView?: boolean;
}

export interface TableInfo extends TableRef {
  /** `schema.name` as the user writes it, e.g. `dbo.Members`. */
  readonly qualifiedName: string;
  /** In table order. */
  readonly columns: readonly ColumnInfo[];
  /** Primary key columns in key order; empty for a heap table. */
  readonly primaryKey: readonly string[];
  /** The catalog's estimate (planning and ETA only). */
  readonly estimatedRows: number;
}

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

/** One page of rows: values in `TableInfo.columns` order, and each row's key. */
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
   * the manifest (producer.snapshot); `verify --against` refuses a source whose identity differs.
   * An adapter that gives none is not checked.
   */
  readonly sourceIdentity?: Readonly<Record<string, unknown>>;
  /** What every reader of this run sees, e.g. `{ isolation: 'repeatable read', exported: '00000003-...' }`. */
  readonly [key: string]: unknown;
}

/** What `seedline verify --against` compares with a dump, read in the source's consistent view. */
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
