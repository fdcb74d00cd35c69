import { describe, expect, it } from 'vitest';
import { COPY_SIGNATURE, CopyBinaryParser, type CopyProblem } from './pg-copy-binary.ts';

/** COPY binary data for `rows` (null = NULL field), as PostgreSQL writes it. */
function copyData(rows: readonly (readonly (Buffer | null)[])[], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [COPY_SIGNATURE, int32(0), int32(extension.length), extension];
  for (const row of rows) {
    parts.push(int16(row.length));
    for (const v of row) parts.push(v === null ? int32(-1) : Buffer.concat([int32(v.length), v]));
  }
  parts.push(int16(-1));
  return Buffer.concat(parts);
}

const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

/** Parses `chunks` in order; each tuple as its fields' text ('∅' for NULL). */
function parse(width: number, chunks: readonly Buffer[]): { tuples: string[][]; problem: CopyProblem | null } {
  const tuples: string[][] = [];
  const parser = new CopyBinaryParser(width, (buf, starts, lengths) => {
    tuples.push(Array.from({ length: width }, (_, i) => (lengths[i]! < 0 ? '∅' : buf.toString('utf8', starts[i]!, starts[i]! + lengths[i]!))));
  });
  for (const c of chunks) if (parser.push(c)) break;
  return { tuples, problem: parser.problem ?? parser.end() };
}

const ROWS = [
  [Buffer.from('1'), Buffer.from('åäö 😀'), null],
  [Buffer.from('2'), Buffer.alloc(0), Buffer.from('x'.repeat(300))],
  [Buffer.from('3'), null, Buffer.from('')],
];
const EXPECTED = [
  ['1', 'åäö 😀', '∅'],
  ['2', '', 'x'.repeat(300)],
  ['3', '∅', ''],
];

describe('CopyBinaryParser', () => {
  it('reads tuples, NULL distinct from empty, and skips a header extension', () => {
    expect(parse(3, [copyData(ROWS, Buffer.from('ext'))])).toEqual({ tuples: EXPECTED, problem: null });
  });

  it('gives the same tuples however the data is split (every offset, every two offsets, byte by byte)', () => {
    // The last tuple ends in a long value: the end of data can come right after a cut field.
    const rows = [...ROWS, [Buffer.from('4'), null, Buffer.from('y'.repeat(40))]];
    const expected = [...EXPECTED, ['4', '∅', 'y'.repeat(40)]];
    const data = copyData(rows);
    for (let cut = 0; cut <= data.length; cut++) {
      expect(parse(3, [data.subarray(0, cut), data.subarray(cut)])).toEqual({ tuples: expected, problem: null });
      for (let second = cut; second <= data.length; second += 7) {
        expect(parse(3, [data.subarray(0, cut), data.subarray(cut, second), data.subarray(second)])).toEqual({ tuples: expected, problem: null });
      }
    }
    const bytes = Array.from(data, (b) => Buffer.from([b]));
    expect(parse(3, bytes)).toEqual({ tuples: expected, problem: null });
  });

  it('joins a cut tuple of wide fields in as many rounds as it takes, at every offset', () => {
    const rows = [
      [Buffer.from('a'.repeat(2500)), null, Buffer.from('b'.repeat(3000))],
      [Buffer.from('1'), Buffer.from('c'.repeat(4100)), Buffer.from('d')],
      [Buffer.from('e'.repeat(10)), Buffer.from('f'.repeat(2049)), Buffer.from('g'.repeat(2047))],
    ];
    const expected = rows.map((r) => r.map((v) => (v === null ? '∅' : v.toString())));
    const data = copyData(rows);
    for (let cut = 0; cut <= data.length; cut++) {
      expect(parse(3, [data.subarray(0, cut), data.subarray(cut)])).toEqual({ tuples: expected, problem: null });
    }
    for (const size of [1, 100, 2047, 2049]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
      expect(parse(3, chunks)).toEqual({ tuples: expected, problem: null });
    }
  });

  it('keeps what it needs of a chunk whose memory the caller reuses (pg hands out views of its read buffer)', () => {
    const data = copyData([...ROWS, [Buffer.from('4'), null, Buffer.from('y'.repeat(5000))]]);
    const scratch = Buffer.alloc(300);
    const tuples: string[][] = [];
    const parser = new CopyBinaryParser(3, (buf, starts, lengths) => {
      tuples.push([0, 1, 2].map((i) => (lengths[i]! < 0 ? '∅' : buf.toString('utf8', starts[i]!, starts[i]! + lengths[i]!))));
    });
    for (let i = 0; i < data.length; i += scratch.length) {
      const n = data.copy(scratch, 0, i, i + scratch.length);
      expect(parser.push(scratch.subarray(0, n))).toBeNull();
      scratch.fill(0xee); // what the next socket read would do to it
    }
    expect(parser.end()).toBeNull();
    expect(tuples).toEqual([...EXPECTED, ['4', '∅', 'y'.repeat(5000)]]);
  });

  it('holds a long value over many chunks without re-reading each one', () => {
    const big = Buffer.alloc(5_000_000, 0x61);
    const data = copyData([[Buffer.from('1'), big, null]]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += 65536) chunks.push(data.subarray(i, i + 65536));
    const started = performance.now();
    const { tuples, problem } = parse(3, chunks);
    expect(problem).toBeNull();
    expect(tuples[0]![1]!.length).toBe(big.length);
    expect(performance.now() - started).toBeLessThan(2000); // quadratic re-joining would take minutes
  });

  it('reports data cut short, with the offset of the unfinished tuple', () => {
    const data = copyData(ROWS);
    const withoutTrailer = data.subarray(0, data.length - 2);
    expect(parse(3, [withoutTrailer]).problem).toEqual({ kind: 'truncated', offset: withoutTrailer.length });
    const second = parse(3, [data.subarray(0, 19 + 2 + 4 + 1 + 4)]); // inside the first tuple
    expect(second).toEqual({ tuples: [], problem: { kind: 'truncated', offset: 19 } });
    expect(parse(3, [data.subarray(0, 5)]).problem).toEqual({ kind: 'truncated', offset: 0 });
    expect(parse(3, []).problem).toEqual({ kind: 'truncated', offset: 0 });
  });

  it('refuses text COPY, OIDs, a wrong field count, a bad length and data after the end', () => {
    expect(parse(1, [Buffer.from('1\tabc\n2\tdef\n'.repeat(3))]).problem).toMatchObject({ kind: 'bad-header', offset: 0 });
    const oids = copyData(ROWS);
    oids.writeInt32BE(1 << 16, COPY_SIGNATURE.length);
    expect(parse(3, [oids]).problem).toMatchObject({ kind: 'bad-header' });
    expect(parse(2, [copyData(ROWS)]).problem).toEqual({ kind: 'bad-field-count', offset: 19, expected: 2, found: 3 });
    const badLength = copyData([[Buffer.from('1')]]);
    badLength.writeInt32BE(-7, 21);
    expect(parse(1, [badLength]).problem).toEqual({ kind: 'bad-length', offset: 21, length: -7 });
    const data = copyData(ROWS);
    expect(parse(3, [Buffer.concat([data, Buffer.from([0])])]).problem).toEqual({ kind: 'after-trailer', offset: data.length });
  });
});
