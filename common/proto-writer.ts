import protobuf from 'protobufjs';

/**
 * A growable byte buffer that writes protobuf wire format the way protobufjs's Writer does
 * (same varints, zigzag, little-endian fixed and float bytes), for encoders that start from
 * bytes or fields instead of JS objects (extract: COPY tuples → records; the transform's
 * ScratchWriter extends it). 64-bit integers come as two's-complement halves (`hi` signed
 * or not, `lo` unsigned), so no BigInt or Long is made per value.
 */
export const WIRE = { varint: 0, fixed64: 1, delimited: 2, fixed32: 5 } as const;

const { writeFloatLE, writeDoubleLE } = protobuf.util.float;

/**
 * Writes the UTF-8 of `text` at `pos` of `buf`, which has room for 3 bytes per UTF-16 unit;
 * returns the position after it. Short ASCII text (ids, keys) is copied in a loop: 13 ns for
 * 6 characters against 68 for Buffer.write's call into C++, which wins from ~16 characters on.
 */
export function writeUtf8(buf: Buffer, pos: number, text: string): number {
  const n = text.length;
  if (n <= 16) {
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) return pos + buf.write(text, pos, 'utf8');
      buf[pos + i] = c;
    }
    return pos + n;
  }
  return pos + buf.write(text, pos, 'utf8');
}

/**
 * Between a bigint and its 64 bits as two uint32 halves (two's complement), through a
 * BigInt64Array and a Uint32Array over the same 8 bytes: ~4 ns a bigint → halves and ~11 the
 * other way, where Number(bigint) takes ~30, BigInt(number) ~30 and BigInt.asUintN with
 * shifts ~70 (measured on Node 20). Values beyond 64 bits wrap, as BigInt.asIntN(64) does.
 */
export class Int64Words {
  hi = 0;
  lo = 0;
  private readonly signed = new BigInt64Array(1);
  private readonly unsigned = new BigUint64Array(this.signed.buffer);
  private readonly words = new Uint32Array(this.signed.buffer);

  /** Sets `hi` and `lo` to the halves of `value`. */
  split(value: bigint): this {
    this.signed[0] = value;
    this.lo = this.words[LO]!;
    this.hi = this.words[HI]!;
    return this;
  }

  /** The int64 (`signed`) or uint64 with halves `hi` and `lo`. */
  join(hi: number, lo: number, signed: boolean): bigint {
    this.words[LO] = lo;
    this.words[HI] = hi;
    return signed ? this.signed[0]! : this.unsigned[0]!;
  }
}

/** Which of the two uint32 words of a 64-bit value holds its low half (the platform's byte order). */
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  /** Writes into `buffer` (replaced by a bigger one when it fills up). */
  constructor(buffer: Buffer = Buffer.allocUnsafe(64 * 1024)) {
    this.buf = buffer;
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  tag(id: number, wireType: number): void {
    const tag = ((id << 3) | wireType) >>> 0;
    if (tag < 0x80) {
      // Field numbers up to 15: one byte, without uint32's loop.
      this.ensure(1);
      this.buf[this.pos++] = tag;
    } else this.uint32(tag);
  }

  uint32(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    let v = value >>> 0;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** protobuf int32: a negative value is sign-extended to 64 bits (10 bytes). */
  int32(value: number): void {
    if (value < 0) this.varint64(-1, value >>> 0);
    else this.uint32(value);
  }

  sint32(value: number): void {
    this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  varint64(hi: number, lo: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    let h = hi >>> 0;
    let l = lo >>> 0;
    while (h) {
      buf[pos++] = (l & 127) | 128;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    while (l > 127) {
      buf[pos++] = (l & 127) | 128;
      l >>>= 7;
    }
    buf[pos++] = l;
    this.pos = pos;
  }

  sint64(hi: number, lo: number): void {
    const mask = hi >> 31;
    this.varint64((((hi << 1) | (lo >>> 31)) ^ mask) >>> 0, ((lo << 1) ^ mask) >>> 0);
  }

  fixed64(hi: number, lo: number): void {
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  float(value: number): void {
    this.ensure(4);
    writeFloatLE(value, this.buf, this.pos);
    this.pos += 4;
  }

  double(value: number): void {
    this.ensure(8);
    writeDoubleLE(value, this.buf, this.pos);
    this.pos += 8;
  }

  /** Length prefix and the bytes `src[start, end)`. */
  delimited(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.uint32(n);
    this.ensure(n);
    if (n < 32) {
      // Short values: a loop beats the call into C++ that Buffer.copy makes.
      const buf = this.buf;
      let pos = this.pos;
      for (let i = start; i < end; i++) buf[pos++] = src[i]!;
    } else {
      src.copy(this.buf, this.pos, start, end);
    }
    this.pos += n;
  }

  /** Length prefix and the UTF-8 of `text`. */
  string(text: string): void {
    const n = Buffer.byteLength(text, 'utf8');
    this.uint32(n);
    this.ensure(n);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }
}
