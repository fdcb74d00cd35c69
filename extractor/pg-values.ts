import { SeedlineError } from '../common/errors.ts';
import type { ArrayElementKind, PgArrayValue, PgIntervalValue } from './source.ts';

/**
 * PostgreSQL values whose record form is a small message (interval, arrays), decoded from
 * the server's binary send format. Both read paths use these decoders on the same bytes:
 * the binary COPY path gets them as the column's value, the row path asks for
 * `interval_send(…)` / `array_send(…)` (a bytea, sent as hex text). So the two paths give
 * the same JS value, which protobufjs then encodes.
 */

/** `interval_send`: int64 microseconds, int32 days, int32 months — what the record keeps. */
export function decodeInterval(buf: Buffer, pos: number): PgIntervalValue {
  return { months: buf.readInt32BE(pos + 12), days: buf.readInt32BE(pos + 8), microseconds: buf.readBigInt64BE(pos).toString() };
}

const DEFAULTS: Record<ArrayElementKind, () => PgArrayValue['values'][number]> = {
  int32: () => 0,
  int64: () => '0',
  bool: () => false,
  float: () => 0,
  double: () => 0,
  string: () => '',
  bytes: () => Buffer.alloc(0),
};

/**
 * `array_send`: int32 ndim, int32 has-nulls flag, element type oid, per dimension its length
 * and lower bound, then each element as int32 length (-1: NULL) and bytes, in row-major order.
 * `element` says how the element bytes are read (the catalog casts other element types to
 * text[] on the server). A NULL element is the field type's default in `values` and its
 * index is in `null_indexes`; `dims` only for 2+ dimensions, `lower_bounds` only when one is not 1.
 */
export function decodeArray(buf: Buffer, pos: number, len: number, element: ArrayElementKind, where: () => string): PgArrayValue {
  const end = pos + len;
  const ndim = buf.readInt32BE(pos);
  let p = pos + 12;
  const dims: number[] = [];
  const lowerBounds: number[] = [];
  for (let d = 0; d < ndim; d++) {
    dims.push(buf.readInt32BE(p));
    lowerBounds.push(buf.readInt32BE(p + 4));
    p += 8;
  }
  const count = ndim === 0 ? 0 : dims.reduce((a, b) => a * b, 1);
  const values: PgArrayValue['values'][number][] = new Array(count);
  const nulls: number[] = [];
  const read = ELEMENT_READERS[element];
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) throw badArray(where());
    const n = buf.readInt32BE(p);
    p += 4;
    if (n < 0) {
      values[i] = DEFAULTS[element]();
      nulls.push(i);
      continue;
    }
    if (p + n > end) throw badArray(where());
    values[i] = read(buf, p, n);
    p += n;
  }
  const out: { values: PgArrayValue['values']; null_indexes?: number[]; dims?: number[]; lower_bounds?: number[] } = { values };
  if (nulls.length) out.null_indexes = nulls;
  if (ndim > 1) out.dims = dims;
  if (lowerBounds.some((b) => b !== 1)) out.lower_bounds = lowerBounds;
  return out as PgArrayValue;
}

const ELEMENT_READERS: Record<ArrayElementKind, (buf: Buffer, pos: number, len: number) => PgArrayValue['values'][number]> = {
  int32: (buf, pos, len) => (len === 2 ? buf.readInt16BE(pos) : buf.readInt32BE(pos)),
  int64: (buf, pos) => buf.readBigInt64BE(pos).toString(),
  bool: (buf, pos) => buf[pos] !== 0,
  float: (buf, pos) => canonicalNaN(buf.readFloatBE(pos)),
  double: (buf, pos) => canonicalNaN(buf.readDoubleBE(pos)),
  string: (buf, pos, len) => buf.toString('utf8', pos, pos + len),
  bytes: (buf, pos, len) => Buffer.from(buf.subarray(pos, pos + len)),
};

/** The row path's NaN comes from Number('NaN'): one bit pattern, whatever the server stored. */
export function canonicalNaN(v: number): number {
  return v !== v ? NaN : v;
}

function badArray(where: string): SeedlineError {
  return new SeedlineError('SOURCE_QUERY', `${where}: an array value ends inside an element`, {
    hint: 'the server sent array data the reader did not expect; please report it with the server version',
  });
}

/**
 * A `date` as the record keeps it: `YYYY-MM-DD` for years 1–9999 (the server's ISO text,
 * unchanged); otherwise ISO 8601's expanded form with astronomical year numbering
 * (`0044-03-15 BC` → `-0043-03-15`, 1 BC → `0000-…`, `10000-01-01` → `+10000-01-01`);
 * `infinity` and `-infinity` as they are. Input: the server's text with DateStyle ISO.
 */
export function isoDate(text: string): string {
  if (text.length === 10) return text; // the common case: YYYY-MM-DD, years 1–9999
  if (text === 'infinity' || text === '-infinity') return text;
  if (text.endsWith(' BC')) {
    const dash = text.indexOf('-');
    const year = Number(text.slice(0, dash)) - 1;
    return `${year === 0 ? '' : '-'}${String(year).padStart(4, '0')}${text.slice(dash, -3)}`;
  }
  return `+${text}`;
}
