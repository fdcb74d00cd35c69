import protobuf from 'protobufjs';
import { ProtoWriter, writeUtf8 } from '../common/proto-writer.ts';

/**
 * Protobuf encoding without intermediate objects, for the transform's hot path: a growing
 * scratch buffer written field by field, and per-message-type encoders compiled once from the
 * reflected type. The bytes are exactly protobufjs 8's (event-encoder.test.ts checks it):
 * fields in field-number order; a proto3 field without presence skipped at its default value;
 * a field with presence (`optional`) written whenever it is set; null/undefined never written;
 * short strings (< 40 UTF-16 units) with lone surrogates written as protobufjs's own UTF-8
 * writer does (3 bytes of the surrogate), longer ones as Node's (U+FFFD).
 */
const constantStrings = new Map<string, Buffer>();

/**
 * The shared wire writer (common/proto-writer.ts) plus what the transform's encoders need:
 * numbers up to 2^53 as varints, int64 from a bigint or number, protobufjs's UTF-8 for short
 * strings with lone surrogates, constant strings encoded once, fork/ldelim for sub-messages.
 */
export class ScratchWriter extends ProtoWriter {
  /** A varint of a non-negative integer below 2^53. */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7fffffff) {
      buf[pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    while (value > 127) {
      buf[pos++] = (value & 127) | 128;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** An int64 from a bigint or an integer number, as protobufjs writes a Long of it. */
  int64(value: bigint | number): void {
    if (typeof value === 'number' ? value >= 0 && value <= Number.MAX_SAFE_INTEGER : value >= 0n && value <= MAX_SAFE) {
      this.varint(Number(value));
      return;
    }
    const bits = BigInt.asUintN(64, BigInt(value));
    this.varint64(Number(bits >> 32n), Number(bits & 0xffffffffn));
  }

  /** As the transform's encoders always did: the value truncated to 32 bits first. */
  override int32(value: number): void {
    value |= 0;
    if (value < 0) this.varint64(-1, value);
    else this.varint(value);
  }

  override string(value: string): void {
    const n = value.length;
    if (n < 40 && !isWellFormed(value)) {
      this.ensure(n * 3 + 5);
      const len = utf8WriteLikeProtobufjs(value, this.buf, this.pos + 1);
      this.buf[this.pos] = len; // n < 40: at most 117 bytes, a one-byte length
      this.pos += 1 + len;
    } else if (n <= 42) {
      // At most 126 bytes: one length byte, written after the text.
      this.ensure(n * 3 + 1);
      const len = writeUtf8(this.buf, this.pos + 1, value) - this.pos - 1;
      this.buf[this.pos] = len;
      this.pos += 1 + len;
    } else {
      const len = Buffer.byteLength(value, 'utf8');
      this.varint(len);
      this.ensure(len);
      this.pos += this.buf.write(value, this.pos, len, 'utf8');
    }
  }

  /**
   * `string(value)` for the few strings repeated on every event (event type, table, payload
   * type): their encoding (length prefix + UTF-8) is made once and copied, which costs less
   * than encoding ~20-40 characters again per event.
   */
  constantString(value: string): void {
    let encoded = constantStrings.get(value);
    if (!encoded) {
      const once = new ScratchWriter();
      once.string(value);
      encoded = once.copy(0);
      if (constantStrings.size < 10_000) constantStrings.set(value, encoded);
    }
    this.ensure(encoded.length);
    this.buf.set(encoded, this.pos);
    this.pos += encoded.length;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Starts a length-delimited field's body (after its tag): returns the mark `ldelim` takes. */
  fork(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the body started at `mark`: writes its length there, moving the body when it needs more than one byte. */
  ldelim(mark: number): number {
    const len = this.pos - mark - 1;
    if (len < 128) {
      this.buf[mark] = len;
      return len;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    const end = this.pos + extra;
    this.pos = mark;
    this.varint(len);
    this.pos = end;
    return len;
  }

  /** A copy of bytes [start, pos): the caller keeps it, the scratch is reused. */
  copy(start: number): Buffer {
    const out = Buffer.allocUnsafe(this.pos - start);
    this.buf.copy(out, 0, start, this.pos);
    return out;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** String.prototype.isWellFormed (Node 20; not in this TypeScript lib): no lone surrogate. */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** protobufjs's util.utf8.write: a lone surrogate becomes its own 3-byte sequence. */
function utf8WriteLikeProtobufjs(s: string, buf: Buffer, offset: number): number {
  const start = offset;
  for (let i = 0; i < s.length; ++i) {
    let c1 = s.charCodeAt(i);
    let c2: number;
    if (c1 < 128) buf[offset++] = c1;
    else if (c1 < 2048) {
      buf[offset++] = (c1 >> 6) | 192;
      buf[offset++] = (c1 & 63) | 128;
    } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
      c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
      ++i;
      buf[offset++] = (c1 >> 18) | 240;
      buf[offset++] = ((c1 >> 12) & 63) | 128;
      buf[offset++] = ((c1 >> 6) & 63) | 128;
      buf[offset++] = (c1 & 63) | 128;
    } else {
      buf[offset++] = (c1 >> 12) | 224;
      buf[offset++] = ((c1 >> 6) & 63) | 128;
      buf[offset++] = (c1 & 63) | 128;
    }
  }
  return offset - start;
}

/**
 * Writes `message` (a plain object, field names as in the .proto) into the writer; returns
 * null, or what is wrong with a field (protobufjs verify's wording).
 */
export type CompiledEncoder = (message: Readonly<Record<string, unknown>>, w: ScratchWriter) => string | null;

type Kind = 'int32' | 'uint32' | 'sint32' | 'int64' | 'uint64' | 'sint64' | 'bool' | 'string' | 'bytes' | 'enum' | 'double';

interface FieldPlan {
  readonly name: string;
  readonly id: number;
  readonly kind: Kind;
  /** Written even at its default value (proto3 `optional`, oneof members). */
  readonly presence: boolean;
}

const KINDS = new Set<string>(['int32', 'uint32', 'sint32', 'int64', 'uint64', 'sint64', 'bool', 'string', 'bytes', 'double']);

/**
 * An encoder for `type`, or null when it has a field this writer does not handle (repeated,
 * map, nested message, fixed-width integers, float): the caller then uses protobufjs.
 */
export function compileEncoder(type: protobuf.Type): CompiledEncoder | null {
  // What protobufjs does before its first encode: resolves field presence from the file's edition.
  type.setup();
  const plans: FieldPlan[] = [];
  for (const field of type.fieldsArray.slice().sort((a, b) => a.id - b.id)) {
    field.resolve();
    if (field.repeated || field.map || field.required) return null;
    const isEnum = field.resolvedType instanceof protobuf.Enum;
    if (!isEnum && (field.resolvedType || !KINDS.has(field.type))) return null;
    if (isEnum && (field.resolvedType as unknown as { _features?: Record<string, unknown> })._features?.['enum_type'] === 'CLOSED') return null;
    if (isEnum && field.typeDefault !== 0) return null;
    plans.push({ name: field.name, id: field.id, kind: isEnum ? 'enum' : (field.type as Kind), presence: (field as unknown as { hasPresence: boolean }).hasPresence });
  }
  return (message, w) => {
    for (let i = 0; i < plans.length; i++) {
      const f = plans[i]!;
      const v = message[f.name];
      if (v === null || v === undefined) continue;
      const problem = writeField(w, f, v);
      if (problem !== null) return problem;
    }
    return null;
  };
}

function writeField(w: ScratchWriter, f: FieldPlan, v: unknown): string | null {
  switch (f.kind) {
    case 'int32':
    case 'enum':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `${f.name}: ${f.kind === 'enum' ? 'enum value' : 'integer'} expected`;
      if (f.kind === 'enum' && (v | 0) !== v) return `${f.name}: enum value expected`;
      if (v === 0 && !f.presence) return null;
      w.tag(f.id, 0);
      w.int32(v);
      return null;
    case 'uint32':
    case 'sint32':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `${f.name}: integer expected`;
      if (v === 0 && !f.presence) return null;
      w.tag(f.id, 0);
      w.varint(f.kind === 'uint32' ? v >>> 0 : ((v << 1) ^ (v >> 31)) >>> 0);
      return null;
    case 'int64':
    case 'uint64':
    case 'sint64': {
      if (typeof v === 'bigint') {
        // A bigint was a Long before protobufjs saw it: 64 bits, two's complement.
        if (v === 0n && !f.presence) return null;
      } else if (typeof v === 'number' && Number.isInteger(v)) {
        if (v === 0 && !f.presence) return null;
      } else return `${f.name}: integer|Long expected`;
      w.tag(f.id, 0);
      if (f.kind === 'sint64') {
        const x = BigInt.asIntN(64, BigInt(v));
        const zz = BigInt.asUintN(64, (x << 1n) ^ (x >> 63n));
        w.varint64(Number(zz >> 32n), Number(zz & 0xffffffffn));
      } else w.int64(v);
      return null;
    }
    case 'bool':
      if (typeof v !== 'boolean') return `${f.name}: boolean expected`;
      if (!v && !f.presence) return null;
      w.tag(f.id, 0);
      w.ensure(1);
      w.buf[w.pos++] = v ? 1 : 0;
      return null;
    case 'string':
      if (typeof v !== 'string') return `${f.name}: string expected`;
      if (v === '' && !f.presence) return null;
      w.tag(f.id, 2);
      w.string(v);
      return null;
    case 'bytes': {
      const bytes =
        typeof v === 'string' ? Buffer.from(v, 'base64') : v instanceof Uint8Array ? v : Array.isArray(v) ? Uint8Array.from(v as number[]) : null;
      if (bytes === null) return `${f.name}: buffer expected`;
      if (bytes.length === 0 && !f.presence) return null;
      w.tag(f.id, 2);
      w.bytes(bytes);
      return null;
    }
    case 'double':
      if (typeof v !== 'number') return `${f.name}: number expected`;
      if (Object.is(v, 0) && !f.presence) return null;
      w.tag(f.id, 1);
      w.ensure(8);
      w.pos = w.buf.writeDoubleLE(v, w.pos);
      return null;
  }
}
