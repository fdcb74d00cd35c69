import { readdirSync } from 'node:fs';
import Long from 'long';
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { SCHEMAS_DIR, loadProtos, lookupType } from '../common/protos.ts';
import { compileRowDecoder } from './legacy-row-decoder.ts';
import { legacySchema, protobufjsRowDecode } from './legacy-rows.ts';

/** Every legacy table with a .proto in schemas/legacy/. */
const TABLES = readdirSync(`${SCHEMAS_DIR}legacy/`).filter((f) => f.endsWith('.proto')).map((f) => f.slice(0, -'.proto'.length));

async function typeOf(table: string): Promise<protobuf.Type> {
  const { file, messageType } = legacySchema(table);
  return lookupType(await loadProtos([file]), messageType, [file]);
}

function random(seed: number) {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
}

const STRINGS = ['', 'a', 'Hej', 'a real U+FFFD: \ufffd', 'åäö ÅÄÖ', 'emoji 😀 and 🇫🇮', 'x'.repeat(70), 'ü'.repeat(100), '\u0000nul', 'long '.repeat(500)];
const INT64 = [0, 1, -1, 127, 128, 1_325_396_605_787_000, -2_208_988_800_000_000, 253_402_300_799_999_999, Number.MAX_SAFE_INTEGER];
const INT64_BEYOND_DOUBLE = [Long.MAX_VALUE, Long.MIN_VALUE, Long.fromString('9007199254740993'), Long.fromString('-9007199254740993')];
const INT32 = [0, 1, -1, 2147483647, -2147483648, 300];

/** A message of `type` with random values at the edges; each optional field absent one time in three. */
function message(type: protobuf.Type, next: () => number): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    const optional = f.options?.['proto3_optional'] === true;
    if (optional && next() % 3 === 0) continue; // NULL
    const pick = <T>(values: readonly T[]) => values[next() % values.length]!;
    if (f.type === 'int64') m[f.name] = next() % 5 === 0 ? pick(INT64_BEYOND_DOUBLE) : pick(INT64);
    else if (f.type === 'int32') m[f.name] = pick(INT32);
    else if (f.type === 'bool') m[f.name] = next() % 2 === 0;
    else if (f.type === 'string') m[f.name] = pick(STRINGS);
    else if (f.type === 'bytes') m[f.name] = Buffer.from(Array.from({ length: next() % 20 }, () => next() & 0xff));
    else throw new Error(`the test does not make ${f.type} values (${type.name}.${f.name}): extend it`);
  }
  return m;
}

describe('hand-compiled legacy row decoder', () => {
  it('covers every legacy table', async () => {
    expect(TABLES.length).toBeGreaterThanOrEqual(9);
    for (const table of TABLES) expect(compileRowDecoder(await typeOf(table)), table).not.toBeNull();
  });

  it.each(TABLES)('gives the same rows as protobufjs for %s (NULLs, defaults, int64 beyond 2^53, non-ASCII text, bytes)', async (table) => {
    const type = await typeOf(table);
    const decode = compileRowDecoder(type)!;
    const reference = protobufjsRowDecode(type);
    const next = random(table.length * 7919);
    for (let i = 0; i < 400; i++) {
      const bytes = Buffer.from(type.encode(message(type, next)).finish());
      const row = decode(bytes);
      expect(row).toEqual(reference(bytes));
      expect(Object.keys(row)).toEqual(type.fieldsArray.map((f) => f.name)); // the order rejects/*.jsonl shows
    }
    // An empty message: every field absent.
    expect(decode(Buffer.alloc(0))).toEqual(reference(Buffer.alloc(0)));
  });

  it('skips unknown fields and keeps the last occurrence of a field', async () => {
    const type = await typeOf('Messages');
    const decode = compileRowDecoder(type)!;
    const a = type.encode({ MessageId: Long.fromNumber(5), SenderId: 1 }).finish();
    const b = type.encode({ SenderId: 9 }).finish();
    const unknown = Buffer.from([0xf8, 0x07, 0x2a, 0xfa, 0x07, 0x02, 0x41, 0x42]); // field 127: a varint, then 2 bytes
    const bytes = Buffer.concat([a, unknown, b]);
    expect(decode(bytes)).toEqual(protobufjsRowDecode(type)(bytes));
    expect(decode(bytes)).toMatchObject({ MessageId: 5n, SenderId: 9 });
  });

  it('throws on damaged bytes, as protobufjs does: cut short, invalid UTF-8, field number 0', async () => {
    const type = await typeOf('Messages');
    const decode = compileRowDecoder(type)!;
    const reference = protobufjsRowDecode(type);
    const whole = Buffer.from(type.encode({ MessageId: Long.fromNumber(5), Body: 'hello there' }).finish());
    const cut = whole.subarray(0, whole.length - 3);
    expect(() => reference(cut)).toThrow();
    expect(() => decode(cut)).toThrow(/out of range/);
    const invalid = Buffer.from(whole);
    invalid[invalid.indexOf('hello')] = 0xff;
    expect(() => reference(invalid)).toThrow();
    expect(() => decode(invalid)).toThrow(/invalid UTF-8/);
    const fieldZero = Buffer.from([0x00, 0x01]);
    expect(() => reference(fieldZero)).toThrow();
    expect(() => decode(fieldZero)).toThrow(/field number 0/);
  });
});
