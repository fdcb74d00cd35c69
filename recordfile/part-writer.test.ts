import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVarint32, varint32Size } from './framing.ts';
import { PartWriter } from './part-writer.ts';
import { tempDir } from './test-support.ts';

/**
 * PartWriter compresses each 1 MB batch as a segment of one deflate stream, several at once,
 * and reuses a batch once its segment is compressed. A batch reused too early, or segments out
 * of order, would corrupt the part; these parts span many batches, with zlib busy (level 9) or
 * handed every batch at once (unbounded), and must be one gzip member of exactly their framed records.
 */
let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ path: dir, remove } = await tempDir()));
afterEach(() => remove());

/** Deterministic, poorly compressible records of 1-3000 bytes, a few larger than a batch (1 MB). */
function records(seed: number, count: number): Buffer[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const size = i % 997 === 500 ? 1100 * 1024 + (next() % 1000) : 1 + (next() % 3000);
    const b = Buffer.allocUnsafe(size);
    // Half random bytes, half a repeated pattern: zlib has real work to do.
    for (let j = 0; j < size; j++) b[j] = j % 2 === 0 ? next() & 0xff : (i + j) & 0x3f;
    out.push(b);
  }
  return out;
}

function framed(messages: readonly Buffer[]): Buffer {
  const total = messages.reduce((n, m) => n + varint32Size(m.length) + m.length, 0);
  const out = Buffer.alloc(total);
  let pos = 0;
  for (const m of messages) {
    pos = writeVarint32(out, pos, m.length);
    out.set(m, pos);
    pos += m.length;
  }
  return out;
}

async function writePart(writer: PartWriter, messages: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < messages.length; i++) {
    const wait = writer.write(messages[i]!, i);
    if (wait) await wait;
    // Give gzip's callbacks a chance to hand batches back while records keep coming.
    if (i % 200 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * One gzip member (header, one deflate stream, CRC-32 and length of exactly these bytes) that
 * any gunzip reads, about as small as zlib's own gzip at that level.
 */
function expectOneGzipMember(bytes: Buffer, expected: Buffer, level: number): void {
  expect([...bytes.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]);
  expect(bytes[8]).toBe(level === 9 ? 2 : level < 2 ? 4 : 0);
  // The deflate stream alone inflates to the records: no second member hides in it.
  expect(inflateRawSync(bytes.subarray(10, bytes.length - 8)).equals(expected)).toBe(true);
  expect(bytes.readUInt32LE(bytes.length - 8)).toBe(crc32(expected) >>> 0);
  expect(bytes.readUInt32LE(bytes.length - 4)).toBe(expected.length % 2 ** 32);
  expect(gunzipSync(bytes).equals(expected)).toBe(true);
  // Within 1%, plus what each 1 MB segment adds: its sync-flush marker and block headers (more
  // than 100 bytes only where the data compresses a thousandfold).
  const zlibs = gzipSync(expected, { level }).length;
  expect(Math.abs(bytes.length - zlibs)).toBeLessThan(zlibs * 0.01 + 512 * Math.ceil(expected.length / 2 ** 20));
}

async function expectExactPart(file: string, messages: readonly Buffer[], level: number, entry: Awaited<ReturnType<PartWriter['close']>>) {
  const bytes = await readFile(file);
  const expected = framed(messages);
  expect(expected.length).toBeGreaterThan(6 * 1024 * 1024); // many batches
  expectOneGzipMember(bytes, expected, level);
  expect(entry.records).toBe(messages.length);
  expect(entry.uncompressedBytes).toBe(expected.length);
  expect(entry.compressedBytes).toBe(bytes.length);
  expect(entry.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  expect(entry.keyRange).toEqual({ first: 0, last: messages.length - 1 });
}

describe('PartWriter batch reuse', () => {
  it('writes the same bytes every time, and an empty part as zlib does', async () => {
    const messages = records(3, 3000);
    const bytes: Buffer[] = [];
    for (const unbounded of [false, true]) {
      const file = join(dir, `same-${unbounded}.pb.gz`);
      const writer = await PartWriter.create(file, 'x.pb.gz', { gzipLevel: 1, unbounded });
      await writePart(writer, messages);
      await writer.close();
      bytes.push(await readFile(file));
    }
    expect(bytes[0]!.equals(bytes[1]!)).toBe(true);
    const empty = join(dir, 'empty.pb.gz');
    const entry = await (await PartWriter.create(empty, 'empty.pb.gz', { gzipLevel: 1 })).close();
    expect((await readFile(empty)).equals(gzipSync(Buffer.alloc(0), { level: 1 }))).toBe(true);
    expect(entry).toMatchObject({ records: 0, uncompressedBytes: 0, compressedBytes: 20 });
  });

  it('writeRecords writes what write() writes, stops where the part is full, and says when to wait', async () => {
    const messages = records(5, 4000);
    const page = Buffer.concat(messages);
    const ends: number[] = [];
    messages.reduce((end, m) => (ends.push(end + m.length), end + m.length), 0);
    const one = join(dir, 'one.pb.gz');
    const byOne = await PartWriter.create(one, 'one.pb.gz', { gzipLevel: 1 });
    await writePart(byOne, messages);
    const entryOne = await byOne.close();

    const bulk = join(dir, 'bulk.pb.gz');
    const writer = await PartWriter.create(bulk, 'bulk.pb.gz', { gzipLevel: 1 });
    // Stops right after the record that takes the part to 3 MB.
    const full = framed(messages.slice(0, 1)).length;
    expect(writer.writeRecords(page, ends, 0, 1, full)).toBe(1);
    writer.noteKeys(0, 0);
    let i = 1;
    let waits = 0;
    let crossed = false;
    while (i < ends.length) {
      const next = writer.writeRecords(page, ends, i, Math.min(ends.length, i + 700), 3 * 1024 * 1024);
      expect(next).toBeGreaterThan(i);
      writer.noteKeys(i, next - 1);
      if (!crossed && writer.uncompressedBytes >= 3 * 1024 * 1024) {
        crossed = true;
        expect(writer.uncompressedBytes).toBe(framed(messages.slice(0, next)).length);
        expect(framed(messages.slice(0, next - 1)).length).toBeLessThan(3 * 1024 * 1024);
      } else if (crossed) {
        expect(next).toBe(i + 1); // full: one record a call
      }
      i = next;
      if (writer.backlog) {
        waits++;
        await writer.backlog;
      }
    }
    const entry = await writer.close();
    expect(waits).toBeGreaterThan(0);
    expect((await readFile(bulk)).equals(await readFile(one))).toBe(true);
    expect({ ...entry, file: '' }).toEqual({ ...entryOne, file: '' });
  });

  it('compresses at the level asked for (level 0 stores)', async () => {
    const text = Buffer.from('the same few words again and again, '.repeat(40));
    const messages = Array.from({ length: 3000 }, () => text);
    const sizes: number[] = [];
    for (const level of [0, 1, 9]) {
      const file = join(dir, `level-${level}.pb.gz`);
      const writer = await PartWriter.create(file, 'x.pb.gz', { gzipLevel: level });
      await writePart(writer, messages);
      await writer.close();
      const bytes = await readFile(file);
      expectOneGzipMember(bytes, framed(messages), level);
      sizes.push(bytes.length);
    }
    expect(sizes[0]).toBeGreaterThan(framed(messages).length);
    expect(sizes[1]).toBeLessThan(sizes[0]! / 20);
  });

  it('writes exactly the gzip of the framed records across many reused batches', async () => {
    const messages = records(7, 5000);
    const file = join(dir, 'part-00000.pb.gz');
    const writer = await PartWriter.create(file, 'part-00000.pb.gz', { gzipLevel: 9 });
    await writePart(writer, messages);
    await expectExactPart(file, messages, 9, await writer.close());
  });

  it('keeps two unbounded parts written at once intact (batches shared between them)', async () => {
    const a = records(11, 4500);
    const b = records(12, 4500);
    const fileA = join(dir, 'a.pb.gz');
    const fileB = join(dir, 'b.pb.gz');
    const writerA = await PartWriter.create(fileA, 'a.pb.gz', { gzipLevel: 6, unbounded: true });
    const writerB = await PartWriter.create(fileB, 'b.pb.gz', { gzipLevel: 1, unbounded: true });
    await Promise.all([writePart(writerA, a), writePart(writerB, b)]);
    const [entryA, entryB] = await Promise.all([writerA.close(), writerB.close()]);
    await expectExactPart(fileA, a, 6, entryA);
    await expectExactPart(fileB, b, 1, entryB);
  });
});
