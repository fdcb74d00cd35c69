import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';
import { ProtoReader } from '../common/proto-reader.ts';
import { Int64Words } from '../common/proto-writer.ts';

/**
 * A hand-compiled decoder from a legacy row message's bytes straight to the row object that
 * modules see (legacy-rows.ts): one pass over the wire bytes, one object per row. protobufjs
 * makes a message object, a Long per int64 and then our row object from it (with four BigInt
 * operations per int64): about a sixth of a transform worker's time went there.
 *
 * The same row as the protobufjs path, field for field (legacy-row-decoder.test.ts compares
 * them on every fixture table): properties in the .proto's field order; an absent proto3
 * `optional` field is null, another absent field its default (0, 0n, false, "", empty bytes);
 * the last occurrence of a field wins; unknown fields are skipped (groups, which nothing writes,
 * are refused); field number 0 is refused; with `only`, the row has just those fields (the
 * others are skipped as unknown); strings must be valid UTF-8
 * (protobufjs 8 rejects invalid UTF-8 too); bytes are views of the record, as protobufjs gives.
 * Throws on damaged bytes; the caller names the file and record.
 */
export type RowDecode = (bytes: Uint8Array) => Record<string, unknown>;

type Kind = 'int32' | 'uint32' | 'sint32' | 'int64' | 'uint64' | 'sint64' | 'bool' | 'string' | 'bytes' | 'double' | 'float' | 'enum';

interface FieldPlan {
  readonly name: string;
  readonly kind: Kind;
  /** proto3 `optional`: absent means NULL. */
  readonly nullable: boolean;
}

const KINDS = new Set<string>(['int32', 'uint32', 'sint32', 'int64', 'uint64', 'sint64', 'bool', 'string', 'bytes', 'double', 'float']);

/** A decoder for `type`, or null when it has a field this decoder does not handle (repeated, map, message, fixed-width integers). */
export function compileRowDecoder(type: protobuf.Type, only?: ReadonlySet<string>): RowDecode | null {
  type.setup();
  const byId = new Map<number, FieldPlan>();
  const order: FieldPlan[] = [];
  for (const field of type.fieldsArray) {
    if (only && !only.has(field.name)) continue; // skipped as an unknown field: a column no module uses is not decoded
    field.resolve();
    if (field.repeated || field.map) return null;
    const isEnum = field.resolvedType instanceof protobuf.Enum;
    if (!isEnum && (field.resolvedType || !KINDS.has(field.type))) return null;
    const plan: FieldPlan = { name: field.name, kind: isEnum ? 'enum' : (field.type as Kind), nullable: field.options?.['proto3_optional'] === true };
    byId.set(field.id, plan);
    order.push(plan);
  }
  // Compiled to source once per table (as protobufjs compiles its decoders): the row made by one
  // object literal (one shape for every row of a table), a switch on the whole tag (field number
  // and wire type at once: a known field with another wire type is skipped as unknown), and each
  // field stored by its literal name instead of a megamorphic keyed store. Field names come from
  // the .proto (JSON-quoted).
  const cases = [...byId].map(([id, f]) => `case ${id * 8 + wireTypeOf(f.kind)}: row[${JSON.stringify(f.name)}] = read.${f.kind}(r); break;`);
  const blank = order.map((f) => `${JSON.stringify(f.name)}: ${f.nullable ? 'null' : defaultSource(f.kind)}`);
  const source = `return function decodeRow(bytes) {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    r.reset(buf);
    const row = { ${blank.join(', ')} };
    while (r.pos < r.end) {
      const tag = r.uint32();
      switch (tag) {
        ${cases.join('\n        ')}
        default: skipUnknown(r, tag);
      }
    }
    if (r.pos !== r.end) throw new RangeError(\`index out of range: a field runs past the end of the \${buf.length}-byte message\`);
    return row;
  };`;
  const r = new ProtoReader(); // one per decoder, reset per row: decoding is synchronous
  return new Function('Buffer', 'r', 'read', 'skipUnknown', source)(Buffer, r, READ, skipUnknown) as RowDecode;
}

/** A field this decoder does not know (or of another wire type): skipped; field number 0 is refused. */
function skipUnknown(r: ProtoReader, tag: number): void {
  if (tag >>> 3 === 0) throw new Error(`invalid tag ${tag} (field number 0) at byte ${r.pos - 1}`);
  r.skip(tag & 7);
}

function defaultSource(kind: Kind): string {
  switch (kind) {
    case 'int64':
    case 'uint64':
    case 'sint64':
      return '0n';
    case 'bool':
      return 'false';
    case 'string':
      return '""';
    case 'bytes':
      return 'new Uint8Array(0)';
    default:
      return '0';
  }
}

function wireTypeOf(kind: Kind): number {
  if (kind === 'string' || kind === 'bytes') return 2;
  if (kind === 'double') return 1;
  if (kind === 'float') return 5;
  return 0;
}

/** A reader per kind: the compiled decoder calls each field's own. */
const READ: Readonly<Record<Kind, (r: ProtoReader) => unknown>> = {
  int32: (r) => r.uint32() | 0,
  enum: (r) => r.uint32() | 0,
  uint32: (r) => r.uint32() >>> 0,
  sint32: (r) => {
    const v = r.uint32();
    return ((v >>> 1) ^ -(v & 1)) | 0;
  },
  int64: (r) => {
    r.varint64();
    return signedBigint(r.hi, r.lo);
  },
  uint64: (r) => {
    r.varint64();
    return unsignedBigint(r.hi, r.lo);
  },
  sint64: (r) => {
    r.varint64();
    const mask = -(r.lo & 1);
    const lo = (((r.lo >>> 1) | (r.hi << 31)) ^ mask) >>> 0;
    const hi = ((r.hi >>> 1) ^ mask) >>> 0;
    return signedBigint(hi, lo);
  },
  bool: (r) => {
    r.varint64();
    return r.lo !== 0 || r.hi !== 0;
  },
  string: (r) => {
    const end = r.bytesEnd();
    const start = r.pos;
    r.pos = end;
    const text = r.buf.toString('utf8', start, end);
    // Invalid UTF-8 decodes to U+FFFD: only then is the check needed (valid text may hold U+FFFD too).
    if (text.indexOf('\ufffd') >= 0 && !isUtf8(r.buf.subarray(start, end))) throw new Error(`invalid UTF-8 in a string field at byte ${start}`);
    return text;
  },
  bytes: (r) => {
    const end = r.bytesEnd();
    const start = r.pos;
    r.pos = end;
    return r.buf.subarray(start, end);
  },
  double: (r) => r.double(),
  float: (r) => r.float(),
};

/** Two's-complement 64 bits as a bigint, made from the halves through a typed array (a third of BigInt()'s cost). */
const int64 = new Int64Words();

function signedBigint(hi: number, lo: number): bigint {
  return int64.join(hi, lo, true);
}

function unsignedBigint(hi: number, lo: number): bigint {
  return int64.join(hi, lo, false);
}
