import { describe, expect, it } from 'vitest';
import { writeVarint32 } from '../recordfile/index.ts';
import { ScratchWriter } from './proto-writer.ts';
import { beginFramedSortRecord, endFramedSortRecord, envelopeOf, occurredAtOf, sortRecord, type SortFields } from './sort-record.ts';

const base: SortFields = { occurredAt: 1000n, moduleIndex: 0, table: 'Messages', pk: 5, eventIndex: 0 };
const rec = (over: Partial<SortFields>, env = [1, 2, 3]) => sortRecord({ ...base, ...over }, new Uint8Array(env));

describe('sort records', () => {
  it('round-trips occurred_at and the envelope bytes', () => {
    for (const t of [0n, 1n, -1n, -2208988800000000n, 1700000000000000n, 2n ** 63n - 1n, -(2n ** 63n)]) {
      const r = rec({ occurredAt: t }, [9, 8, 7, 6]);
      expect(occurredAtOf(r)).toBe(t);
      expect([...envelopeOf(r)]).toEqual([9, 8, 7, 6]);
    }
  });

  it('orders by occurred_at, then module, table, primary key (numerically), event index, bytes', () => {
    const inOrder = [
      rec({ occurredAt: -5n }),
      rec({ occurredAt: 999n, moduleIndex: 3 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 9 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 10 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 10, eventIndex: 1 }),
      rec({ moduleIndex: 0, table: 'Messages', pk: 10, eventIndex: 1 }, [1, 2, 4]),
      rec({ moduleIndex: 0, table: 'Messagesx', pk: 1 }),
      rec({ moduleIndex: 1, table: 'A', pk: 1 }),
      rec({ moduleIndex: 1, table: 'A', pk: [1, 'a'] }),
      rec({ moduleIndex: 1, table: 'A', pk: [1, 'b'] }),
      rec({ moduleIndex: 1, table: 'A', pk: [2, 'a'] }),
      rec({ moduleIndex: 1, table: 'A', pk: 'a' }), // integers before strings (tables never mix them)
      rec({ moduleIndex: 1, table: 'A', pk: 'b' }),
      rec({ occurredAt: 1001n }),
    ];
    const shuffled = [...inOrder].reverse();
    shuffled.sort(Buffer.compare);
    expect(shuffled).toEqual(inOrder);
  });
});

describe('sort records, against the first implementation', () => {
  /** sortRecord before its speed-up (bigint arithmetic, a Buffer per string): the reference. */
  function reference(fields: SortFields, envelope: Uint8Array): Buffer {
    const parts = (Array.isArray(fields.pk) ? fields.pk : [fields.pk]) as readonly (number | bigint | string)[];
    const strings = parts.map((p) => (typeof p === 'string' ? Buffer.from(JSON.stringify(p), 'utf8') : null));
    let keyLength = 8 + 1 + Buffer.byteLength(fields.table, 'utf8') + 1 + 1 + 2;
    for (let i = 0; i < parts.length; i++) keyLength += 1 + (strings[i] ? strings[i]!.length + 1 : 8);
    const out = Buffer.allocUnsafe(keyLength + envelope.length + 2);
    const int64 = (pos: number, v: bigint) => out.writeBigUInt64BE(BigInt.asUintN(64, v) ^ 0x8000000000000000n, pos);
    let pos = int64(0, fields.occurredAt);
    out[pos++] = fields.moduleIndex;
    pos += out.write(fields.table, pos, 'utf8');
    out[pos++] = 0;
    for (let i = 0; i < parts.length; i++) {
      const s = strings[i];
      if (s) {
        out[pos++] = 2;
        pos += s.copy(out, pos);
        out[pos++] = 0;
      } else {
        out[pos++] = 1;
        pos = int64(pos, BigInt(parts[i] as number | bigint));
      }
    }
    out[pos++] = 0;
    pos = out.writeUInt16BE(fields.eventIndex, pos);
    out.set(envelope, pos);
    out.writeUInt16BE(keyLength, pos + envelope.length);
    return out;
  }

  it('writes the same bytes for times and keys across the whole 64-bit range', () => {
    const ints = [0, 1, -1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 123456789012];
    const bigs = [0n, -1n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), 1_700_000_000_123_456n, -2_208_988_800_000_000n, 4294967296n];
    const pks = [...ints, ...bigs, 'a', 'Åbo "x"', '', [1, 'b'], [2n ** 60n, -3, 'z']] as SortFields['pk'][];
    for (const occurredAt of [...bigs, ...ints.map(BigInt)]) {
      for (const pk of pks) {
        const fields: SortFields = { occurredAt, moduleIndex: 3, table: 'Tåble', pk, eventIndex: 1 };
        expect(sortRecord(fields, new Uint8Array([5, 6])).toString('hex')).toBe(reference(fields, new Uint8Array([5, 6])).toString('hex'));
        expect(occurredAtOf(sortRecord(fields, new Uint8Array(0)))).toBe(occurredAt);
      }
    }
  });
});

describe('framed sort records written in place', () => {
  it('frames exactly the record sortRecord makes, at every length-prefix size, in a writer that grows', () => {
    const w = new ScratchWriter(Buffer.alloc(64)); // small: records written in place make it grow
    const expected: Buffer[] = [];
    for (const size of [0, 1, 80, 127, 200, 16_000, 16_383, 16_384, 70_000, 3]) {
      const envelope = Buffer.alloc(size, size & 0xff);
      const fields: SortFields = { ...base, pk: [size, 'k'], eventIndex: 2 };
      const start = beginFramedSortRecord(w, fields);
      const envelopeStart = w.pos;
      w.raw(envelope);
      endFramedSortRecord(w, start, envelopeStart);
      const record = sortRecord(fields, envelope);
      const frame = Buffer.alloc(5);
      expected.push(frame.subarray(0, writeVarint32(frame, 0, record.length)), record);
    }
    expect(w.buf.subarray(0, w.pos).equals(Buffer.concat(expected))).toBe(true);
  });
});
