import sql from 'mssql';
import { SeedlineError } from '../common/errors.ts';
import type { ColumnInfo, ColumnKind, TableInfo } from './source.ts';

/**
 * SQL Server column types: how seedline carries each one (the type table in extractor/README.md), how it is
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
  /** sys.columns.collation_name: set for char, varchar, text (and the n- types). */
  readonly collation?: string | null;
}

export interface MssqlTableInfo extends TableInfo {
  readonly objectId: number;
  /** sys.objects.modify_date when the catalog was read: ALTER TABLE and index changes move it. */
  readonly modifiedAt?: string;
  readonly columns: readonly MssqlColumn[];
  /** The primary key is the clustered index: key order is the physical order. */
  readonly clusteredKey: boolean;
  /** Per primary key column: descending in the index (read in the index's order). */
  readonly keyDescending?: readonly boolean[];
  /** The primary key index the reads follow (its name, for the manifest). */
  readonly keyIndex?: string;
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
  // The server's exact text: 'hh:mm:ss.nnnnnnn' (as many digits as time(n) declares).
  time: 'string',
  xml: 'string',
  // '<base type>:<value as text>' (see variantExpression).
  sql_variant: 'string',
  // CLR types (system_type_id 240): hierarchyid as its path '/1/3/', the spatial types as WKB.
  hierarchyid: 'string',
  geography: 'bytes',
  geometry: 'bytes',
};

/** null: no mapping (a user-defined CLR type, ...): refused on read, by name. */
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

/**
 * What a mapping loses, said in the .proto comment and the manifest (undefined: nothing).
 * Exactness is the rule; these are the documented exceptions.
 */
export function mssqlTypeNote(base: string, scale: number): string | undefined {
  const cut = scale === 7 ? 'the 7th fractional digit (100 ns) is cut: microseconds kept' : undefined;
  switch (base) {
    case 'datetime2':
      return cut ? `${cut} (toward the past)` : undefined;
    case 'datetimeoffset':
      return `${cut ? `${cut}; ` : ''}the UTC instant is kept, the original offset is not`;
    case 'datetime':
      return 'stored in ticks of 1/300 s; carried as SQL Server displays them (.000/.003/.007 ms), up to 1/3 ms from the tick';
    case 'geography':
    case 'geometry':
      return 'WKB from STAsBinary(): 2D; Z and M values and the SRID are not carried';
    case 'sql_variant':
      return "'<base type>:<value as text>': the base type name, a colon, the value as the server converts it (see MSSQL.md)";
    default:
      return undefined;
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
 * A char/varchar key: tedious encodes a varchar parameter in the database default code page,
 * so a character outside it (a Greek column in a Latin1 database) would arrive as '?' and the
 * pages skip or repeat rows. The text goes as nvarchar (lossless) and is converted on the server
 * to the column's own type in the column's collation: the comparison is then varchar against
 * varchar of one collation — the column itself is never converted, the index still seeks.
 */
function inCollation(c: MssqlColumn): KeyBinding {
  const collation = c.collation && /^[A-Za-z0-9_]+$/.test(c.collation) ? ` COLLATE ${c.collation}` : '';
  return { type: sql.NVarChar(Math.min(4000, c.maxLength)), value: (t) => t, placeholder: (p) => `CONVERT(${c.sqlType}, ${p}${collation})` };
}

/**
 * A key column's binding. nchar/nvarchar are declared with the column's own type and length: a
 * wider parameter type would convert the column (a scan, and another collation's order).
 * Comparisons happen on the server in the column's collation.
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
    case 'varchar':
      return inCollation(c);
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
    case 'time':
      return converted(c.sqlType, 16);
    case 'hierarchyid':
      // Its binary form orders as the hierarchy does (depth first), so the bound is exact.
      return { type: sql.VarChar(1800), value: (t) => t, placeholder: (p) => `CONVERT(hierarchyid, CONVERT(varbinary(892), ${p}, 1))` };
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
    case 'xml':
      return `CASE WHEN DATALENGTH(${ref}) > ${maxValueBytes} THEN NULL ELSE CONVERT(nvarchar(max), ${ref}) END`;
    case 'geography':
    case 'geometry':
      return `CASE WHEN DATALENGTH(${ref}) > ${maxValueBytes} THEN NULL ELSE ${ref}.STAsBinary() END`;
    case 'hierarchyid':
      return `${ref}.ToString()`;
    case 'time':
      return `CONVERT(varchar(16), ${ref})`;
    case 'sql_variant':
      return variantExpression(ref);
    default:
      return isLargeValue(c) ? `CASE WHEN DATALENGTH(${ref}) > ${maxValueBytes} THEN NULL ELSE ${ref} END` : ref;
  }
}

/** How each base type inside a sql_variant becomes exact text (the rest: the default CONVERT). */
const VARIANT_TEXT: Record<string, (v: string) => string> = {
  datetime: (v) => `CONVERT(nvarchar(40), CONVERT(datetime, ${v}), 126)`,
  datetime2: (v) => `CONVERT(nvarchar(40), CONVERT(datetime2(7), ${v}), 126)`,
  smalldatetime: (v) => `CONVERT(nvarchar(40), CONVERT(smalldatetime, ${v}), 126)`,
  datetimeoffset: (v) => `CONVERT(nvarchar(40), CONVERT(datetimeoffset(7), ${v}), 126)`,
  date: (v) => `CONVERT(nvarchar(10), CONVERT(date, ${v}), 23)`,
  time: (v) => `CONVERT(nvarchar(16), CONVERT(time(7), ${v}))`,
  // Style 3 (SQL Server 2016+): 17 significant digits, every distinct value a distinct text.
  float: (v) => `CONVERT(nvarchar(40), CONVERT(float, ${v}), 3)`,
  real: (v) => `CONVERT(nvarchar(40), CONVERT(real, ${v}), 3)`,
  money: (v) => `CONVERT(nvarchar(48), CONVERT(money, ${v}), 2)`,
  smallmoney: (v) => `CONVERT(nvarchar(48), CONVERT(smallmoney, ${v}), 2)`,
  binary: (v) => `CONVERT(nvarchar(max), CONVERT(varbinary(8000), ${v}), 1)`,
  varbinary: (v) => `CONVERT(nvarchar(max), CONVERT(varbinary(8000), ${v}), 1)`,
};

/** sql_variant → `<base type>:<value as text>`, e.g. `int:42`, `datetime:2021-03-28T03:30:00.003`, `nvarchar:Åsa`. */
export function variantExpression(ref: string): string {
  const base = `CONVERT(nvarchar(128), SQL_VARIANT_PROPERTY(${ref}, 'BaseType'))`;
  const whens = Object.entries(VARIANT_TEXT).map(([type, text]) => `WHEN N'${type}' THEN ${text(ref)}`);
  return `CASE WHEN ${ref} IS NULL THEN NULL ELSE ${base} + N':' + CASE ${base} ${whens.join(' ')} ELSE CONVERT(nvarchar(max), ${ref}) END END`;
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
    case 'hierarchyid':
      return `CONVERT(varchar(1800), CONVERT(varbinary(892), ${ref}), 1)`;
    case 'time':
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
