import { ProtoReader } from '../../common/proto-reader.ts';
import type { EventEnvelope } from '../../common/protos.ts';

/**
 * The event envelope (schemas/events/envelope.proto) as the seeder needs it, decoded by hand
 * from the record bytes: the same values protobufjs's `Event.decode` gives, without its
 * per-event garbage. `occurred_at` is a number (µs since the epoch are far below 2^53: the
 * year 2255 is 9e15), not a Long whose `toString` alone cost ~4 µs per event; the exact
 * decimal text is kept beside it for the `occurred-at` header, also beyond 2^53. The strings
 * that repeat from event to event (type, payload type, source table) are decoded once and
 * shared. `payload` is a view into the record, as protobufjs's is.
 */
export class SeedEvent implements EventEnvelope {
  id = '';
  type = '';
  /** µs since the epoch; exact up to 2^53 (larger values: see `occurredAtText`). */
  occurred_at = 0;
  /** `occurred_at` in decimal, exact for any int64. */
  occurredAtText = '0';
  key = '';
  payload: Buffer = EMPTY;
  payload_type = '';
  sourceTable = '';
  sourcePrimaryKey = '';
  hasSource = false;

  get source(): { table: string; primary_key: string } | null {
    return this.hasSource ? { table: this.sourceTable, primary_key: this.sourcePrimaryKey } : null;
  }
}

const EMPTY = Buffer.alloc(0);
const TWO_32 = 2 ** 32;

/** One reader for every envelope and one for its source: decoding is synchronous and allocates nothing per field. */
const reader = new ProtoReader();
const sourceReader = new ProtoReader();

/** Decodes one `seedline.events.Event`; throws on bytes that are not one (like protobufjs). */
export function decodeEnvelope(buf: Buffer): SeedEvent {
  const e = new SeedEvent();
  const r = reader.reset(buf);
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2) {
      const stop = r.bytesEnd();
      const pos = r.pos;
      switch (field) {
        case 1:
          e.id = text(buf, pos, stop);
          break;
        case 2:
          e.type = typeCache.get(buf, pos, stop);
          break;
        case 4:
          e.key = text(buf, pos, stop);
          break;
        case 5:
          e.payload = buf.subarray(pos, stop);
          break;
        case 6:
          decodeSource(buf, pos, stop, e);
          break;
        case 7:
          e.payload_type = payloadTypeCache.get(buf, pos, stop);
          break;
        default:
          if (field === 0 || field === 3) throw new Error(`invalid wire type 2 for field ${field}`);
      }
      r.pos = stop;
    } else if (field === 3 && wire === 0) {
      r.varint64();
      setOccurredAt(e, r.hi, r.lo);
    } else {
      if (field === 0 || (field >= 1 && field <= 7)) throw new Error(`invalid wire type ${wire} for field ${field}`);
      r.skip(wire);
    }
  }
  return e;
}

/** Source { string table = 1; string primary_key = 2; } — repeated occurrences merge, like protobuf's. */
function decodeSource(buf: Buffer, start: number, end: number, e: SeedEvent): void {
  e.hasSource = true;
  const r = sourceReader.reset(buf, start, end);
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2) {
      const stop = r.bytesEnd();
      if (field === 1) e.sourceTable = tableCache.get(buf, r.pos, stop);
      else if (field === 2) e.sourcePrimaryKey = text(buf, r.pos, stop);
      else if (field === 0) throw new Error('invalid field 0');
      r.pos = stop;
    } else {
      if (field <= 2) throw new Error(`invalid wire type ${wire} for field ${field}`);
      r.skip(wire);
    }
  }
}

/** occurred_at from its 64 bits: a number when exact, and the exact decimal text in any case. */
function setOccurredAt(e: SeedEvent, hi: number, lo: number): void {
  if (hi < 0x200000) {
    // 0 ≤ value < 2^53: exact as a number.
    const v = hi * TWO_32 + lo;
    e.occurred_at = v;
    e.occurredAtText = String(v);
  } else if (hi >= 0xffe00000 && !(hi === 0xffe00000 && lo === 0)) {
    // -2^53 < value < 0: two's complement, still exact.
    const v = -((~hi >>> 0) * TWO_32 + ((~lo >>> 0) + 1));
    e.occurred_at = v;
    e.occurredAtText = String(v);
  } else {
    const big = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    e.occurred_at = Number(big);
    e.occurredAtText = big.toString();
  }
}

/** UTF-8 text, as protobufjs reads it from a Buffer (`utf8Slice`: ~50 ns for a 36-byte id). */
function text(buf: Buffer, start: number, end: number): string {
  return buf.utf8Slice(start, end);
}

/**
 * Strings that repeat (event types, payload types, tables): the last few seen per field,
 * compared byte for byte, so the common case allocates nothing. Bounded: at most `SIZE`
 * entries, replaced round-robin.
 */
class StringCache {
  private static readonly SIZE = 64;
  private readonly bytes: Buffer[] = [];
  private readonly strings: string[] = [];
  private last = 0;
  private nextSlot = 0;

  get(buf: Buffer, start: number, end: number): string {
    const n = this.bytes.length;
    if (n > 0 && same(this.bytes[this.last]!, buf, start, end)) return this.strings[this.last]!;
    for (let i = 0; i < n; i++) {
      if (same(this.bytes[i]!, buf, start, end)) {
        this.last = i;
        return this.strings[i]!;
      }
    }
    const s = text(buf, start, end);
    if (end - start > 256) return s;
    const copy = Buffer.from(buf.subarray(start, end));
    let slot = n;
    if (n < StringCache.SIZE) {
      this.bytes.push(copy);
      this.strings.push(s);
    } else {
      slot = this.nextSlot;
      this.nextSlot = (this.nextSlot + 1) % StringCache.SIZE;
      this.bytes[slot] = copy;
      this.strings[slot] = s;
    }
    this.last = slot;
    return s;
  }
}

function same(known: Buffer, buf: Buffer, start: number, end: number): boolean {
  const n = known.length;
  if (n !== end - start) return false;
  for (let i = 0; i < n; i++) if (known[i] !== buf[start + i]) return false;
  return true;
}

const typeCache = new StringCache();
const payloadTypeCache = new StringCache();
const tableCache = new StringCache();

declare global {
  interface Buffer {
    utf8Slice(start: number, end: number): string;
  }
}
