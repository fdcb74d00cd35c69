import type { PrimaryKey, PrimaryKeyPart } from './event-id.ts';

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
  const parts = (Array.isArray(fields.pk) ? fields.pk : [fields.pk]) as readonly PrimaryKeyPart[];
  const strings = parts.map((p) => (typeof p === 'string' ? Buffer.from(JSON.stringify(p), 'utf8') : null));
  let keyLength = 8 + 1 + Buffer.byteLength(fields.table, 'utf8') + 1 + 1 + 2;
  for (let i = 0; i < parts.length; i++) keyLength += 1 + (strings[i] ? strings[i]!.length + 1 : 8);
  const out = Buffer.allocUnsafe(keyLength + envelope.length + 2);
  let pos = writeOrderedInt64(out, 0, fields.occurredAt);
  out[pos++] = fields.moduleIndex;
  pos += out.write(fields.table, pos, 'utf8');
  out[pos++] = 0;
  for (let i = 0; i < parts.length; i++) {
    const s = strings[i];
    if (s) {
      out[pos++] = TAG_STRING;
      pos += s.copy(out, pos);
      out[pos++] = 0; // JSON text has no raw NUL: \u0000 is escaped
    } else {
      out[pos++] = TAG_INT;
      pos = writeOrderedInt64(out, pos, BigInt(parts[i] as number | bigint));
    }
  }
  out[pos++] = TAG_END;
  pos = out.writeUInt16BE(fields.eventIndex, pos);
  out.set(envelope, pos);
  out.writeUInt16BE(keyLength, pos + envelope.length);
  return out;
}

/** The envelope bytes inside a sort record. */
export function envelopeOf(record: Uint8Array): Buffer {
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const keyLength = buf.readUInt16BE(buf.length - 2);
  return buf.subarray(keyLength, buf.length - 2);
}

/** The occurred_at inside a sort record. */
export function occurredAtOf(record: Uint8Array): bigint {
  const buf = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  return BigInt.asIntN(64, buf.readBigUInt64BE(0) ^ 0x8000000000000000n);
}

function writeOrderedInt64(out: Buffer, pos: number, value: bigint): number {
  return out.writeBigUInt64BE(BigInt.asUintN(64, value) ^ 0x8000000000000000n, pos);
}
