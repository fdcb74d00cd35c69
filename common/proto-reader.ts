/**
 * Reads protobuf wire format from a Buffer, for decoders that go straight from bytes to the
 * values they need (the seeder's envelope, the transform's legacy rows), the counterpart of
 * ProtoWriter. 64-bit varints come as two's-complement halves (`hi`, `lo`, unsigned), so no
 * BigInt or Long is made unless the caller wants one. One reader can be reused for many
 * messages (`reset`): nothing is allocated per field. Damaged bytes throw a RangeError
 * ("index out of range", as protobufjs says) or an Error naming what is invalid.
 */
export class ProtoReader {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;
  /** The last `varint64`: high and low 32 bits. */
  hi = 0;
  lo = 0;

  /** Reads `buf[start, end)` next. */
  reset(buf: Buffer, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** A varint's low 32 bits, unsigned (protobuf's uint32: longer varints are read to their end). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < this.end && buf[pos]! < 0x80) {
      this.pos = pos + 1;
      return buf[pos]!;
    }
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= this.end) throw outOfRange(this, 'a varint');
      const b = buf[pos++]!;
      if (shift < 32) value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw new Error(`invalid varint encoding at byte ${this.pos}`);
  }

  /** A varint of up to 64 bits into `hi` and `lo`. */
  varint64(): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw outOfRange(this, 'a varint');
      const b = buf[pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new Error(`invalid varint encoding at byte ${this.pos}`);
  }

  /**
   * Reads a length prefix and returns where the bytes it announces end; `pos` is then at
   * their start. The caller reads `buf[pos, end)` and sets `pos = end`.
   */
  bytesEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.end) throw new RangeError(`index out of range: ${this.pos} + ${length} > ${this.end}`);
    return end;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw outOfRange(this, 'a double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  float(): number {
    if (this.pos + 4 > this.end) throw outOfRange(this, 'a float');
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Skips a field's value of wire type `wire`. Groups (3, 4) are not in proto3; 6 and 7 do not exist. */
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.bytesEnd();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new Error(`invalid wire type ${wire} at byte ${this.pos}`);
    }
    if (this.pos > this.end) throw outOfRange(this, 'a fixed-width value');
  }
}

const EMPTY = Buffer.alloc(0);

function outOfRange(r: ProtoReader, what: string): RangeError {
  return new RangeError(`index out of range: the message ends at byte ${r.end}, in ${what} at byte ${r.pos}`);
}
