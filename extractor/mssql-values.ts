import { SeedlineError } from '../common/errors.ts';
import type { ColumnValue } from './source.ts';
import type { SelectLayout } from './mssql-sql.ts';
import { parseWallMicros, type ZoneConverter } from './mssql-time.ts';
import type { MssqlColumn } from './mssql-types.ts';

/**
 * What tedious hands out → the JS value of the type mapping. The select list
 * (mssql-types.ts `valueExpression`) already turns the lossy types into text on the server;
 * the native shapes tedious would give without it are handled too, and refused where the
 * driver has already lost information (a decimal as a JS number).
 *
 * tedious' shapes (useUTC: true): tinyint/smallint/int → number, bigint → decimal string,
 * bit → boolean, decimal/money → number (lossy), real/float → number, uniqueidentifier →
 * upper-case string, binary/rowversion → Buffer, date/datetime/datetime2 → Date holding the
 * wall clock as if UTC (milliseconds only), datetimeoffset → Date of the instant (offset lost).
 */
export interface ValueContext {
  readonly table: string;
  /** Required when a naive datetime column is read. */
  readonly zone?: ZoneConverter;
}

export function mapValue(c: MssqlColumn, raw: unknown, ctx: ValueContext): ColumnValue {
  if (raw === null || raw === undefined) return null;
  const where = `${ctx.table}.${c.name}`;
  switch (c.kind) {
    case 'int32':
      return typeof raw === 'number' ? raw : Number(raw);
    case 'int64':
      return int64Text(raw, where);
    case 'bool':
      return typeof raw === 'boolean' ? raw : raw === 1 || raw === '1';
    case 'decimal':
      if (typeof raw !== 'string') throw lossy(where, c, raw);
      return raw;
    case 'float':
      return Math.fround(Number(raw)); // the real's own value
    case 'double':
      return Number(raw);
    case 'string':
      return String(raw);
    case 'bytes':
      if (Buffer.isBuffer(raw)) return raw;
      if (typeof raw === 'string' && /^0x[0-9a-f]*$/i.test(raw)) return Buffer.from(raw.slice(2), 'hex');
      throw lossy(where, c, raw);
    case 'uuid':
      return String(raw).toLowerCase();
    case 'date':
      return raw instanceof Date ? raw.toISOString().slice(0, 10) : String(raw);
    case 'timestamp': {
      if (!ctx.zone) throw new Error(`internal: ${where} is a naive datetime and no source time zone was set`);
      return ctx.zone.toUtc(wallMicros(raw, where)).toString();
    }
    case 'timestamptz':
      // Our select list sends the UTC wall clock as text; a native Date already is the instant.
      return wallMicros(raw, where).toString();
    default:
      throw new Error(`internal: ${where} has no mapping (${c.sqlType}) and was not refused before reading`);
  }
}

/**
 * One result row (array mode) → values in column order, checking every large value that the
 * server replaced by NULL because its DATALENGTH was over the limit.
 */
export function mapRow(columns: readonly MssqlColumn[], layout: SelectLayout, row: readonly unknown[], ctx: ValueContext & { readonly maxValueBytes: number; readonly key?: readonly string[] }): ColumnValue[] {
  const out: ColumnValue[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i]!;
    const v = row[i];
    const at = layout.lengthAt[i]!;
    if (at >= 0 && (v === null || v === undefined)) {
      const length = row[at];
      if (length !== null && length !== undefined && Number(length) > ctx.maxValueBytes) {
        throw new SeedlineError(
          'VALUE_TOO_LARGE',
          `${ctx.table}.${c.name} (${c.sqlType}) holds ${Number(length)} bytes${ctx.key?.length ? ` in the row with key ${ctx.key.join(', ')}` : ''}, over the limit of ${ctx.maxValueBytes} bytes`,
          { table: ctx.table, column: c.name, option: 'max-value-mb', hint: 'raise --max-value-mb if this much memory per value is fine (a page holds at least one row), or exclude the column in the config' },
        );
      }
    }
    out[i] = mapValue(c, v, ctx);
  }
  return out;
}

function wallMicros(raw: unknown, where: string): bigint {
  if (raw instanceof Date) return BigInt(raw.getTime()) * 1000n;
  return parseWallMicros(String(raw), where);
}

function int64Text(raw: unknown, where: string): string {
  if (typeof raw === 'bigint') return raw.toString();
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw)) throw new Error(`internal: ${where} arrived as the inexact number ${raw}`);
    return String(raw);
  }
  const text = String(raw);
  if (!/^-?\d+$/.test(text)) throw new Error(`internal: ${where} arrived as ${JSON.stringify(text)}, not an integer`);
  return text;
}

function lossy(where: string, c: MssqlColumn, raw: unknown): Error {
  return new Error(`internal: ${where} (${c.sqlType}) arrived as ${typeof raw} ${String(raw)}; it must be converted on the server to stay exact`);
}
