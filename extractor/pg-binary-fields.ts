import { SeedlineError } from '../common/errors.ts';
import type { FieldLayout } from './record-layout.ts';
import { ProtoWriter, WIRE } from '../common/proto-writer.ts';
import { quoteIdent } from './postgres-catalog.ts';
import { BINARY_ARRAY_ELEMENTS } from './postgres-catalog.ts';
import { canonicalNaN, decodeArray, decodeInterval, isoDate } from './pg-values.ts';
import type { ColumnValue, KeyValue } from './source.ts';

/**
 * One column of a `COPY … (FORMAT binary)` tuple turned straight into its protobuf field:
 * the select-list expression that makes the server send the value in a shape that needs no
 * parsing here, and the function that writes the field from the value's bytes. Gives the
 * bytes rowEncoder gives for the row path's values (postgres-source.ts `convert`):
 *
 * | PostgreSQL      | sent as (binary)                          | written as                    |
 * |-----------------|-------------------------------------------|-------------------------------|
 * | int2/int4/int8  | big-endian integer                        | varint / zigzag / fixed       |
 * | bool            | one byte                                  | varint 0/1                    |
 * | float4/float8   | big-endian IEEE                           | little-endian IEEE            |
 * | text/varchar/bpchar, bytea | the bytes (text: UTF-8)        | copied as they are            |
 * | citext, numeric/money, date | `::text` / `::numeric::text` on the server | copied         |
 * | uuid            | 16 bytes                                  | 36 lowercase characters       |
 * | timestamptz     | int8 µs since 2000-01-01 UTC              | + 946,684,800 s → µs since 1970 |
 * | timestamp       | `AT TIME ZONE` the source zone (server)   | as timestamptz                |
 * | date            | `::text` (ISO)                            | copied; other years: isoDate  |
 * | oid/xid/cid     | `::text::int8`                            | as int8                       |
 * | enum, json, inet, … (kind string) | `::text` on the server  | copied                        |
 * | interval, arrays | their binary send format                 | decoded (pg-values.ts), encoded as the row path does |
 *
 * Infinite timestamps are written as int64's extremes; a finite one too late for int64
 * microseconds since 1970 (after the year 294,246) is refused naming table, key and column.
 */
export type FieldWriter = (out: ProtoWriter, buf: Buffer, pos: number, len: number) => void;

export interface BinaryField {
  /** Select-list expression (table alias `t`). */
  readonly select: string;
  readonly write: FieldWriter;
}

/** PostgreSQL base types (pg_type.typname) this module reads in binary. */
export const BINARY_TYPES = ['int2', 'int4', 'int8', 'bool', 'float4', 'float8', 'text', 'varchar', 'bpchar', 'citext', 'bytea', 'uuid', 'numeric', 'money', 'date', 'timestamp', 'timestamptz'] as const;

const EPOCH_2000_MICROS = 946_684_800_000_000;
const EPOCH_HI = Math.floor(EPOCH_2000_MICROS / 2 ** 32);
const EPOCH_LO = EPOCH_2000_MICROS % 2 ** 32;

/**
 * `zone` is the source time zone, already checked against pg_timezone_names. `zoneIsSession`:
 * the statement runs with the session's TimeZone set to `zone` (see `copyPlan`), so a naive
 * timestamp is cast instead of converted with `AT TIME ZONE`.
 */
export function binaryField(field: FieldLayout, pgType: string, table: string, zone: string | undefined, zoneIsSession = false, castType = ''): BinaryField | null {
  const q = `t.${quoteIdent(field.name)}`;
  const select = selectFor(field, pgType, q, zone, zoneIsSession, castType);
  if (select === null) return null;
  if (field.kind === 'int64' && pgType !== 'int8') pgType = 'int8'; // oid-like: cast to int8 on the server
  if (field.kind === 'string' && !(BINARY_TYPES as readonly string[]).includes(pgType)) pgType = 'text'; // sent as ::text
  if (field.mask) {
    const mask = field.mask;
    const decode = valueDecoder(pgType, field.name, table);
    const tag = tagOf(field.id, WIRE.delimited);
    return {
      select,
      write: (out, buf, pos, len) => {
        const hashed = mask(decode(buf, pos, len));
        out.uint32(tag);
        if (typeof hashed === 'string') out.string(hashed);
        else out.delimited(hashed, 0, hashed.length);
      },
    };
  }
  if (field.encodeMessage) {
    const encode = field.encodeMessage;
    const decode = messageDecoder(field, table);
    const tag = tagOf(field.id, WIRE.delimited);
    return {
      select,
      write: (out, buf, pos, len) => {
        const encoded = encode(decode(buf, pos, len));
        const bytes = Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.length);
        out.uint32(tag);
        out.delimited(bytes, 0, bytes.length);
      },
    };
  }
  const write = writerFor(field, pgType, table);
  return write ? { select, write } : null;
}

/** interval and arrays: the row path's value, from the same binary form it asks for. */
function messageDecoder(field: FieldLayout, table: string): (buf: Buffer, pos: number, len: number) => object {
  if (field.kind === 'interval') return (buf, pos) => decodeInterval(buf, pos);
  const element = field.arrayOf!;
  return (buf, pos, len) => decodeArray(buf, pos, len, element, () => `${table}.${field.name}`);
}

function selectFor(field: FieldLayout, pgType: string, q: string, zone: string | undefined, zoneIsSession: boolean, castType: string): string | null {
  if (field.kind === 'array') return `${q}::${BINARY_ARRAY_ELEMENTS[pgType] ? castType : 'text[]'}`;
  if (field.kind === 'interval') return q;
  if (field.kind === 'int64' && pgType !== 'int8') return `${q}::text::int8`;
  if (field.kind === 'string' && !(BINARY_TYPES as readonly string[]).includes(pgType)) return `${q}::text`;
  switch (pgType) {
    case 'numeric':
    case 'money':
      return `${q}::numeric::text`;
    case 'date':
    case 'citext':
      return `${q}::text`;
    case 'timestamp':
      // The wall clock read in the source zone, by the server's own time-zone rules and data.
      // The cast does what AT TIME ZONE does (DetermineTimeZoneOffset with the same zone) but
      // without looking the zone up by name for every value: ~0.4 µs of server CPU per value.
      if (zone === undefined) return null;
      return zoneIsSession ? `${q}::timestamptz` : `(${q} AT TIME ZONE ${quoteLiteral(zone)})`;
    default:
      return (BINARY_TYPES as readonly string[]).includes(pgType) ? q : null;
  }
}

/** A string literal for SQL text; the session runs with standard_conforming_strings on. */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

function tagOf(id: number, wireType: number): number {
  return ((id << 3) | wireType) >>> 0;
}

function writerFor(f: FieldLayout, pgType: string, table: string): FieldWriter | null {
  const omit = f.omitDefault;
  switch (pgType) {
    case 'int2':
      return int32Writer(f, 2);
    case 'int4':
      return int32Writer(f, 4);
    case 'int8': {
      // The row path hands protobufjs decimal text, which it writes even when it is "0": never left out.
      const emit = int64Emitter(f);
      return emit && ((out, buf, pos) => emit(out, buf.readInt32BE(pos), buf.readUInt32BE(pos + 4)));
    }
    case 'timestamp':
    case 'timestamptz': {
      const emit = int64Emitter(f);
      return (
        emit &&
        ((out, buf, pos) => {
          const hi = buf.readInt32BE(pos);
          const lo = buf.readUInt32BE(pos + 4);
          // PostgreSQL's own infinities are int64's extremes; kept as they are.
          if (isInfinity(hi, lo)) return emit(out, hi, lo);
          const sum = lo + EPOCH_LO; // < 2^33: exact
          const high = hi + EPOCH_HI + (sum >= 2 ** 32 ? 1 : 0);
          // The last ~30 years PostgreSQL can store pass int64 once counted from 1970; int64 max is infinity.
          if (high > 0x7fffffff || (high === 0x7fffffff && sum % 2 ** 32 === 0xffffffff)) throw outOfRange(table, f.name);
          emit(out, high | 0, sum >>> 0);
        })
      );
    }
    case 'date': {
      if (f.type !== 'string') return null;
      const tag = tagOf(f.id, WIRE.delimited);
      return (out, buf, pos, len) => {
        out.uint32(tag);
        if (len === 10) out.delimited(buf, pos, pos + len); // YYYY-MM-DD: as the server wrote it
        else out.string(isoDate(buf.toString('latin1', pos, pos + len)));
      };
    }
    case 'bool': {
      if (f.type !== 'bool') return null;
      const tag = tagOf(f.id, WIRE.varint);
      return (out, buf, pos) => {
        const v = buf[pos] !== 0 ? 1 : 0;
        if (omit && v === 0) return;
        out.uint32(tag);
        out.uint32(v);
      };
    }
    case 'float4':
    case 'float8': {
      const wide = pgType === 'float8';
      if (f.type === 'double') {
        const tag = tagOf(f.id, WIRE.fixed64);
        return (out, buf, pos) => {
          const v = canonicalNaN(wide ? buf.readDoubleBE(pos) : buf.readFloatBE(pos));
          if (omit && Object.is(v, 0)) return;
          out.uint32(tag);
          out.double(v);
        };
      }
      if (f.type !== 'float' || wide) return null;
      const tag = tagOf(f.id, WIRE.fixed32);
      return (out, buf, pos) => {
        const v = canonicalNaN(buf.readFloatBE(pos));
        if (omit && Object.is(v, 0)) return;
        out.uint32(tag);
        out.float(v);
      };
    }
    case 'uuid': {
      if (f.type !== 'string') return null;
      const tag = tagOf(f.id, WIRE.delimited);
      return (out, buf, pos) => {
        out.uint32(tag);
        out.uint32(36);
        out.ensure(36);
        out.pos = writeUuid(buf, pos, out.buf, out.pos);
      };
    }
    default: {
      // Text (UTF-8 from the server) and bytea: the value's bytes are the field's bytes.
      if (f.type !== 'string' && f.type !== 'bytes') return null;
      const tag = tagOf(f.id, WIRE.delimited);
      return (out, buf, pos, len) => {
        if (omit && len === 0) return;
        out.uint32(tag);
        out.delimited(buf, pos, pos + len);
      };
    }
  }
}

/**
 * int2/int4: the row path hands protobufjs a JS number, so 0 is left out of a non-optional
 * field and an int64-typed field gets the sign-extended value.
 */
function int32Writer(f: FieldLayout, width: 2 | 4): FieldWriter | null {
  const omit = f.omitDefault;
  const read = width === 2 ? (buf: Buffer, pos: number) => buf.readInt16BE(pos) : (buf: Buffer, pos: number) => buf.readInt32BE(pos);
  switch (f.type) {
    case 'int32': {
      const tag = tagOf(f.id, WIRE.varint);
      return (out, buf, pos) => {
        const v = read(buf, pos);
        if (omit && v === 0) return;
        out.uint32(tag);
        out.int32(v);
      };
    }
    case 'sint32': {
      const tag = tagOf(f.id, WIRE.varint);
      return (out, buf, pos) => {
        const v = read(buf, pos);
        if (omit && v === 0) return;
        out.uint32(tag);
        out.sint32(v);
      };
    }
    case 'sfixed32': {
      const tag = tagOf(f.id, WIRE.fixed32);
      return (out, buf, pos) => {
        const v = read(buf, pos);
        if (omit && v === 0) return;
        out.uint32(tag);
        out.fixed32(v);
      };
    }
    default: {
      const write = int64Emitter(f);
      if (!write) return null;
      return (out, buf, pos) => {
        const v = read(buf, pos);
        if (omit && v === 0) return;
        write(out, v < 0 ? -1 : 0, v >>> 0);
      };
    }
  }
}

type Emit64 = (out: ProtoWriter, hi: number, lo: number) => void;

/** Tag and a 64-bit value as the field's type wants it; null for a 32-bit or non-integer field. */
function int64Emitter(f: FieldLayout): Emit64 | null {
  switch (f.type) {
    case 'int64': {
      const tag = tagOf(f.id, WIRE.varint);
      return (out, hi, lo) => {
        out.uint32(tag);
        out.varint64(hi, lo);
      };
    }
    case 'sint64': {
      const tag = tagOf(f.id, WIRE.varint);
      return (out, hi, lo) => {
        out.uint32(tag);
        out.sint64(hi, lo);
      };
    }
    case 'sfixed64': {
      const tag = tagOf(f.id, WIRE.fixed64);
      return (out, hi, lo) => {
        out.uint32(tag);
        out.fixed64(hi, lo);
      };
    }
    default:
      return null;
  }
}

function isInfinity(hi: number, lo: number): boolean {
  return (hi === 0x7fffffff && lo === 0xffffffff) || (hi === -0x80000000 && lo === 0);
}

const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

/** A finite timestamp whose microseconds since 1970 are no int64 below int64 max (which means infinity). */
export function outOfRange(table: string, column: string, key?: KeyValue): SeedlineError {
  return new SeedlineError('SOURCE_QUERY', `${table}.${column} holds a timestamp after the year 294,246 (no int64 microseconds since 1970)${inRow(key)}`, {
    table,
    column,
    hint: 'leave the column out in the config, or read the table through a view that replaces the value',
  });
}

/** ` in the row with key (…)`, naming a value's row in an error message; '' for a table without a key. */
export function inRow(key: KeyValue | undefined): string {
  return key && key.length ? ` in the row with key (${key.join(', ')})` : '';
}

/**
 * The row path's timestamp: `trunc(extract(epoch …) * 1000000)::text` from the server, as
 * decimal text of int64 µs since 1970; 'Infinity'/'-Infinity' → int64 max/min, as the COPY path writes them.
 */
export function epochMicros(text: string, table: string, column: string, key: KeyValue): string {
  if (text === 'Infinity') return INT64_MAX.toString();
  if (text === '-Infinity') return INT64_MIN.toString();
  if (text.length <= 18) return text; // |µs| < 10^18: years 1939 BC to AD 33,658, the common case, no BigInt
  const v = BigInt(text);
  if (v >= INT64_MAX || v < INT64_MIN) throw outOfRange(table, column, key);
  return text;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** 16 bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase ASCII) at `at`; returns the end. */
function writeUuid(src: Buffer, pos: number, dst: Buffer, at: number): number {
  let o = at;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) dst[o++] = 0x2d;
    const b = src[pos + i]!;
    dst[o++] = HEX[b >> 4]!;
    dst[o++] = HEX[b & 15]!;
  }
  return o;
}

/**
 * The row path's JS value of one binary value (for masking, which hashes that value):
 * numbers, booleans, decimal text for 64-bit integers and timestamps, Buffers, strings.
 */
export function valueDecoder(pgType: string, column: string, table: string): (buf: Buffer, pos: number, len: number) => Exclude<ColumnValue, null> {
  switch (pgType) {
    case 'int2':
      return (buf, pos) => buf.readInt16BE(pos);
    case 'int4':
      return (buf, pos) => buf.readInt32BE(pos);
    case 'int8':
      return (buf, pos) => buf.readBigInt64BE(pos).toString();
    case 'timestamp':
    case 'timestamptz':
      return (buf, pos) => {
        const raw = buf.readBigInt64BE(pos);
        if (isInfinity(buf.readInt32BE(pos), buf.readUInt32BE(pos + 4))) return raw.toString();
        const micros = raw + BigInt(EPOCH_2000_MICROS);
        if (micros >= INT64_MAX) throw outOfRange(table, column);
        return micros.toString();
      };
    case 'date':
      return (buf, pos, len) => isoDate(buf.toString('latin1', pos, pos + len));
    case 'bool':
      return (buf, pos) => buf[pos] !== 0;
    case 'float4':
      return (buf, pos) => canonicalNaN(buf.readFloatBE(pos));
    case 'float8':
      return (buf, pos) => canonicalNaN(buf.readDoubleBE(pos));
    case 'bytea':
      return (buf, pos, len) => Buffer.from(buf.subarray(pos, pos + len));
    case 'uuid':
      return (buf, pos) => {
        const out = Buffer.allocUnsafe(36);
        writeUuid(buf, pos, out, 0);
        return out.toString('latin1');
      };
    default:
      return (buf, pos, len) => buf.toString('utf8', pos, pos + len);
  }
}
