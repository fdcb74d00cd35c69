import protobuf from 'protobufjs';
import { Int64Words, ProtoWriter, writeUtf8 } from '../common/proto-writer.ts';

/**
 * Protobuf encoding without intermediate objects, for the transform's hot path: a growing
 * scratch buffer written field by field, and per-message-type encoders compiled once from the
 * reflected type. The bytes are exactly protobufjs 8's (event-encoder.test.ts checks it):
 * fields in field-number order; a proto3 field without presence skipped at its default value;
 * a field with presence (`optional`) written whenever it is set; null/undefined never written;
 * short strings (< 40 UTF-16 units) with lone surrogates written as protobufjs's own UTF-8
 * writer does (3 bytes of the surrogate), longer ones as Node's (U+FFFD).
 */
/**
 * The shared wire writer (common/proto-writer.ts) plus what the transform's encoders need:
 * numbers up to 2^53 as varints, int64 from a bigint or number, protobufjs's UTF-8 for short
 * strings with lone surrogates, bytes encoded once (`raw`), fork/ldelim for sub-messages.
 */
export class ScratchWriter extends ProtoWriter {
  /** A varint of a non-negative integer below 2^53 (times in µs are above 2^31: split in two 32-bit halves, not divided per 7 bits). */
  varint(value: number): void {
    if (value > 0x7fffffff) {
      this.varint64(Math.floor(value / TWO_32), value >>> 0);
      return;
    }
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (value > 127) {
      buf[pos++] = (value & 127) | 128;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** An int64 from a bigint or an integer number, as protobufjs writes a Long of it (two's complement). */
  int64(value: bigint | number): void {
    if (typeof value === 'bigint') {
      int64.split(value);
      this.varint64(int64.hi, int64.lo);
    } else if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) this.varint(value);
    else this.int64(BigInt(value));
  }

  /** A sint64 (zigzag) from a bigint or an integer number. */
  sint64Value(value: bigint | number): void {
    int64.split(typeof value === 'bigint' ? value : BigInt(value));
    this.sint64(int64.hi, int64.lo);
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
      // Written first, its length after: UTF-8 has at least one byte per UTF-16 unit, so the
      // length takes at least varintSize(n) bytes; the text moves in the rare case it takes more.
      // One pass over the text instead of two (Buffer.byteLength, then write).
      const room = varintSize(n);
      this.ensure(room + n * 3 + 1);
      const len = this.buf.write(value, this.pos + room, 'utf8');
      const size = varintSize(len);
      if (size !== room) this.buf.copyWithin(this.pos + size, this.pos + room, this.pos + room + len);
      const end = this.pos + size + len;
      this.varint(len);
      this.pos = end;
    }
  }

  /** Bytes as they are (an encoding made once, e.g. a constant field). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos); // set() beats a byte loop from ~10 bytes on (13 against 24 ns)
    this.pos += bytes.length;
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

const TWO_32 = 4294967296;
const int64 = new Int64Words();

/** Bytes of the varint of a non-negative integer below 2^32. */
function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

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
  // Compiled to source, as protobufjs compiles its own encoders: each field read by its literal
  // name (a monomorphic property load, where a loop over names is a megamorphic keyed load)
  // and checked, skipped or written by straight-line code for its kind.
  const body = plans.map((f) => `v = m[${JSON.stringify(f.name)}];\nif (v !== null && v !== undefined) {\n${fieldSource(f)}\n}`);
  return new Function('Buffer', `return function encode(m, w) {\nlet v;\n${body.join('\n')}\nreturn null;\n};`)(Buffer) as CompiledEncoder;
}

/** The checks and writes of one field whose value `v` is set; returns protobufjs verify's wording when it does not fit. */
function fieldSource(f: FieldPlan): string {
  const wrong = (what: string) => `return ${JSON.stringify(`${f.name}: ${what}`)};`;
  /** Writes unless the value is the default of a field without presence (`isDefault` is JS source). */
  const write = (isDefault: string, wire: number, code: string) => `${f.presence ? '' : `if (!(${isDefault})) `}{ w.tag(${f.id}, ${wire}); ${code} }`;
  switch (f.kind) {
    case 'int32':
      return `if (typeof v !== 'number' || !Number.isInteger(v)) ${wrong('integer expected')}\n${write('v === 0', 0, 'w.int32(v);')}`;
    case 'enum':
      return `if (typeof v !== 'number' || !Number.isInteger(v) || (v | 0) !== v) ${wrong('enum value expected')}\n${write('v === 0', 0, 'w.int32(v);')}`;
    case 'uint32':
      return `if (typeof v !== 'number' || !Number.isInteger(v)) ${wrong('integer expected')}\n${write('v === 0', 0, 'w.varint(v >>> 0);')}`;
    case 'sint32':
      return `if (typeof v !== 'number' || !Number.isInteger(v)) ${wrong('integer expected')}\n${write('v === 0', 0, 'w.varint(((v << 1) ^ (v >> 31)) >>> 0);')}`;
    case 'int64':
    case 'uint64':
    case 'sint64': {
      // A bigint was a Long before protobufjs saw it: 64 bits, two's complement.
      const code = f.kind === 'sint64' ? 'w.sint64Value(v);' : 'w.int64(v);';
      return `if (typeof v !== 'bigint' && (typeof v !== 'number' || !Number.isInteger(v))) ${wrong('integer|Long expected')}\n${write('v === 0n || v === 0', 0, code)}`;
    }
    case 'bool':
      return `if (typeof v !== 'boolean') ${wrong('boolean expected')}\n${write('!v', 0, 'w.ensure(1); w.buf[w.pos++] = v ? 1 : 0;')}`;
    case 'string':
      return `if (typeof v !== 'string') ${wrong('string expected')}\n${write("v === ''", 2, 'w.string(v);')}`;
    case 'bytes':
      return [
        `const bytes = typeof v === 'string' ? Buffer.from(v, 'base64') : v instanceof Uint8Array ? v : Array.isArray(v) ? Uint8Array.from(v) : null;`,
        `if (bytes === null) ${wrong('buffer expected')}`,
        write('bytes.length === 0', 2, 'w.bytes(bytes);'),
      ].join('\n');
    case 'double':
      return `if (typeof v !== 'number') ${wrong('number expected')}\n${write('Object.is(v, 0)', 1, 'w.ensure(8); w.pos = w.buf.writeDoubleLE(v, w.pos);')}`;
  }
}
