import { Int64Words } from '../common/proto-writer.ts';
import { varint32Size, writeVarint32 } from '../recordfile/index.ts';
import type { PrimaryKey, PrimaryKeyPart } from './event-id.ts';
import type { ScratchWriter } from './proto-writer.ts';

/**
 * The order of the event stream, as bytes. Each event travels through the sort as one record:
 * a sort key, then the envelope bytes, then the key's length (2 bytes). Comparing whole records
 * with `Buffer.compare` gives the stream order:
 *
 *   1. occurred_at, ascending (8 bytes, big-endian, sign bit flipped so negatives sort first)
 *   2. the module's position in modules/index.ts (producers before consumers on ties)
 *   3. source table name (UTF-8 bytes)
 *   4. source primary key, column by column: integers numerically, strings by their JSON text
 *   5. the event's position in its module's output for that row (registered before deleted)
 *   6. the envelope bytes (only two copies of the same legacy row can get this far)
 *
 * The key is self-delimiting (NUL-terminated table, tagged key columns, an end tag), so no key
 * is a prefix of another. The order is a total order over the records' bytes: the output does
 * not depend on the order rows were read, which keeps re-runs (and later parallel runs)
 * byte-identical.
 */

export interface SortFields {
  readonly occurredAt: bigint;
  readonly moduleIndex: number;
  readonly table: string;
  readonly pk: PrimaryKey;
  readonly eventIndex: number;
}

const TAG_END = 0x00;
const TAG_INT = 0x01;
const TAG_STRING = 0x02;

export function sortRecord(fields: SortFields, envelope: Uint8Array): Buffer {
  const keyLength = sortKeyLength(fields);
  const out = Buffer.allocUnsafe(keyLength + envelope.length + 2);
  const pos = writeSortKey(out, 0, fields, keyLength);
  out.set(envelope, pos);
  writeKeyLength(out, pos + envelope.length, keyLength);
  return out;
}

/** Room kept for a framed record's length (varint): 2 bytes hold up to 16 KB, the rare other sizes move the record. */
const FRAME_LENGTH_ROOM = 2;

/**
 * Starts the framed sort record of `fields` (varint length + record, as recordfile frames
 * records) at `w.pos`: room for the length, then the key. The caller writes the envelope right
 * after it, in place (EventEncoder.encodeInto), then calls `endFramedSortRecord` with the
 * returned start: a generation worker writes records straight into the batch it sends, with no
 * envelope copy and no view per event.
 */
export function beginFramedSortRecord(w: ScratchWriter, fields: SortFields): number {
  const start = w.pos;
  const keyLength = sortKeyLength(fields);
  w.ensure(FRAME_LENGTH_ROOM + keyLength);
  w.pos = writeSortKey(w.buf, start + FRAME_LENGTH_ROOM, fields, keyLength);
  return start;
}

/** Ends the record begun at `start` whose envelope starts at `envelopeStart`: the key's length, then the frame's. */
export function endFramedSortRecord(w: ScratchWriter, start: number, envelopeStart: number): void {
  w.ensure(2 + 5);
  writeKeyLength(w.buf, w.pos, envelopeStart - start - FRAME_LENGTH_ROOM);
  w.pos += 2;
  const length = w.pos - start - FRAME_LENGTH_ROOM;
  const shift = varint32Size(length) - FRAME_LENGTH_ROOM;
  if (shift !== 0) {
    w.buf.copyWithin(start + FRAME_LENGTH_ROOM + shift, start + FRAME_LENGTH_ROOM, w.pos);
    w.pos += shift;
  }
  writeVarint32(w.buf, start, length);
}

/**
 * Bytes of the sort key of `fields`. Keeps the JSON of string key parts for the `writeSortKey`
 * that follows it.
 */
function sortKeyLength(fields: SortFields): number {
  const pk = fields.pk;
  const single = !Array.isArray(pk);
  const count = single ? 1 : (pk as readonly PrimaryKeyPart[]).length;
  let keyLength = 8 + 1 + tableBytes(fields.table).length + 1 + 1 + 2;
  for (let i = 0; i < count; i++) {
    const part = single ? (pk as PrimaryKeyPart) : (pk as readonly PrimaryKeyPart[])[i]!;
    if (typeof part === 'string') {
      json[i] = JSON.stringify(part);
      keyLength += 1 + Buffer.byteLength(json[i]!, 'utf8') + 1;
    } else keyLength += 1 + 8;
  }
  // Both are written in 2 bytes.
  if (keyLength > 0xffff || fields.eventIndex > 0xffff) throw new RangeError(`sort key of ${keyLength} bytes or event index ${fields.eventIndex} does not fit in 2 bytes`);
  return keyLength;
}

/** Writes the sort key of `fields` (`keyLength` bytes, just worked out by sortKeyLength) at `pos` of `out`; returns the position after it. */
function writeSortKey(out: Buffer, pos: number, fields: SortFields, keyLength: number): number {
  const pk = fields.pk;
  const single = !Array.isArray(pk);
  const count = single ? 1 : (pk as readonly PrimaryKeyPart[]).length;
  const start = pos;
  pos = writeOrderedInt64(out, pos, fields.occurredAt);
  out[pos++] = fields.moduleIndex;
  const table = tableBytes(fields.table);
  out.set(table, pos);
  pos += table.length;
  out[pos++] = 0;
  for (let i = 0; i < count; i++) {
    const part = single ? (pk as PrimaryKeyPart) : (pk as readonly PrimaryKeyPart[])[i]!;
    if (typeof part === 'string') {
      out[pos++] = TAG_STRING;
      pos += out.write(json[i]!, pos, 'utf8');
      out[pos++] = 0; // JSON text has no raw NUL: \u0000 is escaped
    } else {
      out[pos++] = TAG_INT;
      pos = writeOrderedInt64(out, pos, part);
    }
  }
  out[pos++] = TAG_END;
  out[pos++] = fields.eventIndex >>> 8;
  out[pos++] = fields.eventIndex;
  if (pos - start !== keyLength) throw new Error('sort key length changed between sortKeyLength and writeSortKey');
  return pos;
}

/** The last 2 bytes of a record: where its envelope starts (envelopeOf). */
function writeKeyLength(out: Buffer, pos: number, keyLength: number): void {
  out[pos] = keyLength >>> 8;
  out[pos + 1] = keyLength;
}

/** The JSON of string key parts, from sortKeyLength to the writeSortKey after it. */
const json: string[] = [];

const tables = new Map<string, Buffer>();
/** The last table asked for: records come table after table, so the map is rarely consulted. */
let lastTable = '';
let lastTableBytes: Buffer = Buffer.alloc(0);

function tableBytes(table: string): Buffer {
  if (table === lastTable) return lastTableBytes;
  let bytes = tables.get(table);
  if (!bytes) {
    bytes = Buffer.from(table, 'utf8');
    tables.set(table, bytes);
  }
  lastTable = table;
  lastTableBytes = bytes;
  return bytes;
}

/** The envelope bytes inside a sort record (a view, no copy). */
export function envelopeOf(record: Uint8Array): Buffer {
  const buf = Buffer.isBuffer(record) ? record : Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const end = buf.length - 2;
  return buf.subarray((buf[end]! << 8) | buf[end + 1]!, end);
}

/** The module index inside a sort record (the byte after occurred_at). */
export function moduleIndexOf(record: Uint8Array): number {
  return record[8]!;
}

/**
 * The occurred_at inside a sort record as a JSON value (a part's keyRange): a number when exact,
 * else decimal text. No bigint per event on the writing path.
 */
export function occurredAtJsonOf(record: Uint8Array): number | string {
  const hi = ((record[0]! << 24) | (record[1]! << 16) | (record[2]! << 8) | record[3]!) ^ 0x80000000;
  const lo = ((record[4]! << 24) | (record[5]! << 16) | (record[6]! << 8) | record[7]!) >>> 0;
  const n = hi * TWO_32 + lo;
  return Number.isSafeInteger(n) ? n : occurredAtOf(record).toString();
}

/** The occurred_at inside a sort record. */
export function occurredAtOf(record: Uint8Array): bigint {
  const hi = ((record[0]! << 24) | (record[1]! << 16) | (record[2]! << 8) | record[3]!) ^ 0x80000000; // signed
  const lo = ((record[4]! << 24) | (record[5]! << 16) | (record[6]! << 8) | record[7]!) >>> 0;
  const n = hi * TWO_32 + lo;
  if (Number.isSafeInteger(n)) return BigInt(n);
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  return BigInt.asIntN(64, buf.readBigUInt64BE(0) ^ 0x8000000000000000n);
}

const TWO_32 = 4294967296;
const int64 = new Int64Words();

/** A signed 64-bit integer, big-endian with the sign bit flipped: byte order = numeric order. */
function writeOrderedInt64(out: Buffer, pos: number, value: bigint | number): number {
  let hi: number;
  let lo: number;
  if (typeof value === 'bigint') {
    int64.split(value); // the halves without a Number() or BigInt arithmetic per event
    hi = int64.hi;
    lo = int64.lo;
  } else if (value >= -Number.MAX_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER) {
    hi = Math.floor(value / TWO_32);
    lo = value >>> 0; // value mod 2^32, also for negative values
  } else return writeOrderedInt64(out, pos, BigInt(value));
  hi ^= 0x80000000;
  out[pos] = hi >>> 24;
  out[pos + 1] = hi >>> 16;
  out[pos + 2] = hi >>> 8;
  out[pos + 3] = hi;
  out[pos + 4] = lo >>> 24;
  out[pos + 5] = lo >>> 16;
  out[pos + 6] = lo >>> 8;
  out[pos + 7] = lo;
  return pos + 8;
}
