import { describe, expect, it } from 'vitest';
import { RecordSplitter, describeProblem, frame, varint32Size, writeVarint32 } from './framing.ts';

/** Deterministic bytes so a failure can be reproduced. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = seed || 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// Boundary lengths: the varint prefix grows from 1 to 2 bytes at 128 and from 2 to 3 at 16384.
const RECORDS = [bytes(0, 1), bytes(1, 2), bytes(127, 3), bytes(128, 4), bytes(5, 5), bytes(16384, 6), bytes(3000, 7)];
const STREAM = Buffer.concat(RECORDS.map(frame));

function split(chunks: Buffer[], max?: number): { records: Buffer[]; splitter: RecordSplitter } {
  const splitter = new RecordSplitter(max);
  const records: Buffer[] = [];
  for (const chunk of chunks) {
    const got: Buffer[] = [];
    splitter.push(chunk, got);
    // Records may share memory with the chunk: copy them as a real consumer would.
    for (const r of got) records.push(Buffer.from(r));
  }
  splitter.finish();
  return { records, splitter };
}

describe('varint32', () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [16383, [0xff, 0x7f]],
    [16384, [0x80, 0x80, 0x01]],
    [2 ** 28, [0x80, 0x80, 0x80, 0x80, 0x01]],
    [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('writes %i as protobuf does', (n, expected) => {
    const buf = Buffer.alloc(5);
    const end = writeVarint32(buf, 0, n);
    expect([...buf.subarray(0, end)]).toEqual(expected);
    expect(varint32Size(n)).toBe(expected.length);
  });

  it('frames a record as length prefix + bytes', () => {
    expect([...frame(Buffer.from([7, 8, 9]))]).toEqual([3, 7, 8, 9]);
    expect(frame(bytes(16384, 1)).subarray(0, 3)).toEqual(Buffer.from([0x80, 0x80, 0x01]));
  });
});

describe('RecordSplitter', () => {
  it('splits one chunk holding every record', () => {
    const { records, splitter } = split([STREAM]);
    expect(records).toEqual(RECORDS);
    expect(splitter.problem).toBeNull();
    expect(splitter.recordCount).toBe(RECORDS.length);
    expect(splitter.byteCount).toBe(STREAM.length);
  });

  it('gives the same records when the input is split in two at every byte offset', () => {
    for (let at = 0; at <= STREAM.length; at++) {
      const { records, splitter } = split([STREAM.subarray(0, at), STREAM.subarray(at)]);
      if (splitter.problem) throw new Error(`split at ${at}: ${describeProblem(splitter.problem)}`);
      // toEqual on ~20 KB buffers for 20,000 offsets is slow; compare bytes directly.
      expect(records.length, `split at ${at}`).toBe(RECORDS.length);
      records.forEach((r, i) => expect(r.equals(RECORDS[i]!), `split at ${at}, record ${i}`).toBe(true));
    }
  });

  it('gives the same records when fed byte by byte', () => {
    const chunks = [...STREAM].map((b) => Buffer.from([b]));
    const { records, splitter } = split(chunks);
    expect(splitter.problem).toBeNull();
    expect(records).toEqual(RECORDS);
  });

  it('accepts empty chunks anywhere', () => {
    const empty = Buffer.alloc(0);
    const { records } = split([empty, STREAM.subarray(0, 2), empty, STREAM.subarray(2), empty]);
    expect(records).toEqual(RECORDS);
  });

  it('treats empty input as zero records', () => {
    const { records, splitter } = split([]);
    expect(records).toEqual([]);
    expect(splitter.problem).toBeNull();
  });

  describe('corrupt input', () => {
    const good = Buffer.concat([frame(bytes(10, 1)), frame(bytes(200, 2))]); // 11 + 202 bytes

    it('reports a varint whose fifth byte does not end it', () => {
      const bad = Buffer.concat([good, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x10, 0x00])]);
      const { records, splitter } = split([bad]);
      expect(records).toHaveLength(2);
      expect(splitter.problem).toEqual({ kind: 'bad-varint', offset: 213, record: 2 });
    });

    it('reports a varint that never ends, however it is split', () => {
      const bad = Buffer.concat([good, Buffer.alloc(8, 0xff)]);
      for (let at = 0; at <= bad.length; at++) {
        const { splitter } = split([bad.subarray(0, at), bad.subarray(at)]);
        expect(splitter.problem, `split at ${at}`).toEqual({ kind: 'bad-varint', offset: 213, record: 2 });
      }
    });

    it('reports a length over the maximum before buffering the body', () => {
      const bad = Buffer.concat([good, frame(bytes(1001, 3))]);
      const { records, splitter } = split([bad.subarray(0, 216)], 1000); // only the prefix of record 2 arrives
      expect(records).toHaveLength(2);
      expect(splitter.problem).toEqual({ kind: 'too-long', offset: 213, record: 2, length: 1001 });
    });

    it('accepts a record of exactly the maximum length', () => {
      const { records, splitter } = split([frame(bytes(1000, 3))], 1000);
      expect(splitter.problem).toBeNull();
      expect(records).toHaveLength(1);
    });

    it('reports a length over 2^31 as too long, not as a negative number', () => {
      const { splitter } = split([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]);
      expect(splitter.problem).toEqual({ kind: 'too-long', offset: 0, record: 0, length: 2 ** 32 - 1 });
    });

    it('reports a body cut short, with how much is missing', () => {
      const { records, splitter } = split([good.subarray(0, good.length - 50)]);
      expect(records).toHaveLength(1);
      expect(splitter.problem).toEqual({ kind: 'truncated', offset: 11, record: 1, missing: 50 });
      expect(splitter.finish()).toBe(false);
    });

    it('reports a long body cut short when it arrived in many chunks', () => {
      const cut = Buffer.concat([good, frame(bytes(5000, 4)).subarray(0, 2 + 4000)]);
      const chunks: Buffer[] = [];
      for (let at = 0; at < cut.length; at += 97) chunks.push(cut.subarray(at, at + 97));
      const { records, splitter } = split(chunks);
      expect(records).toHaveLength(2);
      expect(splitter.problem).toEqual({ kind: 'truncated', offset: 213, record: 2, missing: 1000 });
    });

    it('reports a length prefix cut short', () => {
      const cut = Buffer.concat([good, frame(bytes(300, 4)).subarray(0, 1)]);
      const { splitter } = split([cut]);
      expect(splitter.problem).toEqual({ kind: 'truncated', offset: 213, record: 2, missing: 1 });
    });

    it('stops at the first problem and stays stopped', () => {
      const splitter = new RecordSplitter();
      const out: Buffer[] = [];
      expect(splitter.push(Buffer.alloc(6, 0xff), out)).toBe(false);
      expect(splitter.push(frame(bytes(3, 1)), out)).toBe(false);
      expect(out).toEqual([]);
      expect(splitter.problem?.kind).toBe('bad-varint');
    });

    it('describes each problem with the record and byte offset', () => {
      expect(describeProblem({ kind: 'truncated', offset: 11, record: 1, missing: 50 })).toMatch(/record 1 at byte 11/);
      expect(describeProblem({ kind: 'bad-varint', offset: 9, record: 4 })).toMatch(/record 4 at byte 9/);
    });
  });
});
