/**
 * What a source adapter says about a table and its columns, and the JS shape of each value:
 * the vocabulary that source.ts's Source contract and the record encoders (record-layout.ts,
 * masking.ts, proto-names.ts, value-messages.ts) share. Apart from source.ts so that those
 * encoders do not import the contract that imports them.
 */

/**
 * How a column is carried in a record (DESIGN.md, "Legacy row schemas"). The adapter
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
