import { describe, expect, it } from 'vitest';
import { sortIndex } from './sort-index.ts';

/** Records as sortIndex sees them: first 8 bytes as two uint32, the rest compared on ties. */
function indexOf(records: Buffer[]) {
  const hi = new Uint32Array(records.length);
  const lo = new Uint32Array(records.length);
  records.forEach((r, i) => {
    const padded = Buffer.concat([r, Buffer.alloc(8)]);
    hi[i] = padded.readUInt32BE(0);
    lo[i] = padded.readUInt32BE(4);
  });
  return { hi, lo, compare: (a: number, b: number) => Buffer.compare(records[a]!, records[b]!) };
}

function sorted(records: Buffer[]): Buffer[] {
  const { hi, lo, compare } = indexOf(records);
  return Array.from(sortIndex(records.length, hi, lo, compare), (i) => records[i]!);
}

function random(seed: number) {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
}

describe('sortIndex', () => {
  it('orders records as Buffer.compare does, over the whole 64-bit range of the first 8 bytes', () => {
    const next = random(7);
    const records = Array.from({ length: 20_000 }, () => {
      const r = Buffer.alloc(8 + (next() % 5));
      for (let i = 0; i < r.length; i++) r[i] = next() >>> 24; // high bytes ≥ 0x80 too: unsigned order
      return r;
    });
    expect(sorted(records)).toEqual([...records].sort(Buffer.compare));
  });

  it('breaks ties on the first 8 bytes by the rest of the record', () => {
    const next = random(3);
    // Few distinct times (as events of the same microsecond), tails that differ.
    const records = Array.from({ length: 5000 }, () => {
      const time = Buffer.alloc(8);
      time.writeUInt32BE(0x80000000 + (next() % 4), 4);
      return Buffer.concat([time, Buffer.from([next() % 7, next() % 3])]);
    });
    expect(sorted(records)).toEqual([...records].sort(Buffer.compare));
  });

  it('orders records shorter than 8 bytes (zero-padded keys) and empty ones', () => {
    const records = [[1], [1, 0], [], [0], [1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [2]].map((b) => Buffer.from(b));
    expect(sorted(records)).toEqual([...records].sort(Buffer.compare));
  });

  it('keeps keys that share every digit (skipped passes) and sorts 0 and 1 records', () => {
    const same = Array.from({ length: 100 }, (_, i) => Buffer.from([9, 9, 9, 9, 9, 9, 9, 9, 99 - i]));
    expect(sorted(same)).toEqual([...same].sort(Buffer.compare));
    expect(sortIndex(0, new Uint32Array(0), new Uint32Array(0), () => 0)).toEqual(new Uint32Array(0));
    expect(Array.from(sortIndex(1, new Uint32Array([5]), new Uint32Array([6]), () => 0))).toEqual([0]);
  });
});
