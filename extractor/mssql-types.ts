import sql from 'mssql';
import { SeedlineError } from '../common/errors.ts';
import type { ColumnInfo, ColumnKind, TableInfo } from './source.ts';

/**
 * SQL Server column types: how seedline carries each one (DESIGN.md's mapping), how it is
 * spelled, and how a key value of that type is bound back as a parameter of its exact type.
 * Pure: no connection, so every rule here is unit-tested.
 */

/** A column as sys.columns describes it (base = the system type under any alias type). */
export interface MssqlColumn extends ColumnInfo {
  readonly base: string;
  /** Bytes, -1 for (max). */
  readonly maxLength: number;
  readonly precision: number;
  readonly scale: number;
}

export interface MssqlTableInfo extends TableInfo {
  readonly objectId: number;
  readonly columns: readonly MssqlColumn[];
  /** The primary key is the clustered index: key order is the physical order. */
  readonly clusteredKey: boolean;
  /** A view (no TABLESAMPLE; one range). */
  readonly isView: boolean;
}

const KINDS: Record<string, ColumnKind> = {
  tinyint: 'int32',
  smallint: 'int32',
  int: 'int32',
  bigint: 'int64',
  bit: 'bool',
  decimal: 'decimal',
  numeric: 'decimal',
  money: 'decimal',
  smallmoney: 'decimal',
  real: 'float',
  float: 'double',
  char: 'string',
  varchar: 'string',
  nchar: 'string',
  nvarchar: 'string',
  text: 'string',
  ntext: 'string',
  binary: 'bytes',
  varbinary: 'bytes',
  image: 'bytes',
  // sys.types calls rowversion `timestamp`: 8 bytes, not a point in time.
  timestamp: 'bytes',
  uniqueidentifier: 'uuid',
  date: 'date',
  datetime: 'timestamp',
  datetime2: 'timestamp',
  smalldatetime: 'timestamp',
  datetimeoffset: 'timestamptz',
};

/** null: no mapping (time, xml, sql_variant, geography, hierarchyid, ...): refused on read. */
export function mssqlKind(base: string): ColumnKind | null {
  return KINDS[base] ?? null;
}

/** The type as T-SQL spells it in a column definition, e.g. `nvarchar(50)`, `decimal(12,2)`. */
export function mssqlTypeText(base: string, maxLength: number, precision: number, scale: number): string {
  switch (base) {
    case 'nchar':
    case 'nvarchar':
      return `${base}(${maxLength === -1 ? 'max' : maxLength / 2})`;
    case 'char':
    case 'varchar':
    case 'binary':
    case 'varbinary':
      return `${base}(${maxLength === -1 ? 'max' : maxLength})`;
    case 'decimal':
    case 'numeric':
      return `${base}(${precision},${scale})`;
    case 'datetime2':
    case 'datetimeoffset':
    case 'time':
      return `${base}(${scale})`;
    case 'timestamp':
      return 'rowversion';
    default:
      return base;
  }
}

/** Values tedious buffers whole in memory: their size is checked on the server first. */
export function isLargeValue(c: MssqlColumn): boolean {
  return c.maxLength === -1 || c.base === 'text' || c.base === 'ntext' || c.base === 'image';
}

/** `[dbo].[Members]`: brackets, with `]` doubled. */
export function quoteName(name: string): string {
  return `[${name.replaceAll(']', ']]')}]`;
}

/** How one key column's text goes back to the server: a parameter and the expression using it. */
export interface KeyBinding {
  /** The driver type the parameter is declared with (`@p int`, `@p nvarchar(50)`, ...). */
  readonly type: sql.ISqlType;
  /** The key text (as `keyExpression` selected it) → the parameter value. */
  value(text: string): string | number | boolean;
  /** The parameter as it appears in the predicate, of exactly the column's type. */
  placeholder(param: string): string;
}

const direct = (type: sql.ISqlType, value: (t: string) => string | number | boolean): KeyBinding => ({ type, value, placeholder: (p) => p });
/** Text converted on the server: exact for types a JS value would round (decimal, datetime, ...). */
const converted = (target: string, length: number, style?: number): KeyBinding => ({
  type: sql.VarChar(length),
  value: (t) => t,
  placeholder: (p) => `CONVERT(${target}, ${p}${style === undefined ? '' : `, ${style}`})`,
});

/**
 * A key column's binding. Strings are declared with the column's own type and length: an
 * nvarchar parameter against a varchar column would convert the column (a scan, and another
 * collation's order). Comparisons happen on the server in the column's collation.
 */
export function keyBinding(c: MssqlColumn, table: string): KeyBinding {
  const len = c.maxLength === -1 ? sql.MAX : c.maxLength;
  switch (c.base) {
    case 'tinyint':
      return direct(sql.TinyInt(), Number);
    case 'smallint':
      return direct(sql.SmallInt(), Number);
    case 'int':
      return direct(sql.Int(), Number);
    case 'bigint':
      return direct(sql.BigInt(), (t) => t); // tedious binds a decimal string exactly (BigInt(t))
    case 'bit':
      return direct(sql.Bit(), (t) => t === '1' || t === 'true');
    case 'real':
      return direct(sql.Real(), Number);
    case 'float':
      return direct(sql.Float(), Number);
    case 'char':
      return direct(sql.Char(len), (t) => t);
    case 'varchar':
      return direct(sql.VarChar(len), (t) => t);
    case 'nchar':
      return direct(sql.NChar(c.maxLength / 2), (t) => t);
    case 'nvarchar':
      return direct(sql.NVarChar(c.maxLength === -1 ? sql.MAX : c.maxLength / 2), (t) => t);
    case 'uniqueidentifier':
      return direct(sql.UniqueIdentifier(), (t) => t);
    case 'decimal':
    case 'numeric':
      return converted(c.sqlType, 64);
    case 'money':
    case 'smallmoney':
      return converted(c.base, 64);
    case 'date':
      return converted('date', 10, 23);
    case 'datetime':
    case 'datetime2':
    case 'smalldatetime':
      return converted(c.sqlType, 27, 126);
    case 'binary':
    case 'varbinary':
      return converted(c.sqlType, 2 + 2 * (c.maxLength === -1 ? 900 : c.maxLength), 1);
    default:
      throw new SeedlineError('UNSUPPORTED_TYPE', `${table}: primary key column ${c.name} is ${c.sqlType}, which seedline cannot page by`, {
        table,
        column: c.name,
        hint: 'extract the table through a view with a supported key, or without a primary key (one pass)',
      });
  }
}

/**
 * The select-list expression for a column's value. Conversions happen on the server so the
 * driver never rounds: decimals and money as text (money with style 2: all four decimals),
 * date and naive datetimes as ISO text (converted from the source zone in JS), datetimeoffset
 * as its UTC wall clock. Large values are replaced by NULL when over `maxValueBytes`; their
 * DATALENGTH is selected beside them (see `lengthExpression`), so the refusal can name it.
 */
export function valueExpression(c: MssqlColumn, ref: string, maxValueBytes: number): string {
  switch (c.base) {
    case 'decimal':
    case 'numeric':
      return `CONVERT(varchar(48), ${ref})`;
    case 'money':
    case 'smallmoney':
      return `CONVERT(varchar(48), ${ref}, 2)`;
    case 'date':
      return `CONVERT(char(10), ${ref}, 23)`;
    case 'datetime':
    case 'datetime2':
    case 'smalldatetime':
      return `CONVERT(varchar(27), ${ref}, 126)`;
    case 'datetimeoffset':
      // datetimeoffset → datetime2 keeps the wall clock and drops the offset: after SWITCHOFFSET
      // to +00:00 that wall clock is UTC.
      return `CONVERT(varchar(27), CONVERT(datetime2(7), SWITCHOFFSET(${ref}, '+00:00')), 126)`;
    case 'text':
      return `CASE WHEN DATALENGTH(${ref}) > ${maxValueBytes} THEN NULL ELSE CONVERT(varchar(max), ${ref}) END`;
    case 'ntext':
      return `CASE WHEN DATALENGTH(${ref}) > ${maxValueBytes} THEN NULL ELSE CONVERT(nvarchar(max), ${ref}) END`;
    case 'image':
      return `CASE WHEN DATALENGTH(${ref}) > ${maxValueBytes} THEN NULL ELSE CONVERT(varbinary(max), ${ref}) END`;
    default:
      return isLargeValue(c) ? `CASE WHEN DATALENGTH(${ref}) > ${maxValueBytes} THEN NULL ELSE ${ref} END` : ref;
  }
}

export function lengthExpression(ref: string): string {
  return `DATALENGTH(${ref})`;
}

/** The select-list expression for a key column's text, the form `keyBinding` binds back. */
export function keyExpression(c: MssqlColumn, ref: string): string {
  switch (c.base) {
    case 'binary':
    case 'varbinary':
      return `CONVERT(varchar(max), ${ref}, 1)`; // '0x0A0B', style 1 converts back
    case 'decimal':
    case 'numeric':
    case 'money':
    case 'smallmoney':
    case 'date':
    case 'datetime':
    case 'datetime2':
    case 'smalldatetime':
      return valueExpression(c, ref, 0);
    default:
      return ref; // ints, bit, strings, uniqueidentifier: the driver's value is exact
  }
}

/** The driver's value of a key expression → the key text. */
export function keyText(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}
