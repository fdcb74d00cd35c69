import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVarint32, varint32Size } from './framing.ts';
import { PartWriter } from './part-writer.ts';
import { tempDir } from './test-support.ts';

/**
 * PartWriter reuses its 1 MB batch buffers once gzip has consumed them. A batch reused too
 * early would corrupt the part; these parts span many batches, with gzip busy (level 9) or
 * handed every batch at once (unbounded), and must be exactly the gzip of their framed records.
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

async function expectExactPart(file: string, messages: readonly Buffer[], level: number, entry: Awaited<ReturnType<PartWriter['close']>>) {
  const bytes = await readFile(file);
  const expected = framed(messages);
  expect(expected.length).toBeGreaterThan(6 * 1024 * 1024); // many batches
  expect(bytes.equals(gzipSync(expected, { level }))).toBe(true);
  expect(entry.records).toBe(messages.length);
  expect(entry.uncompressedBytes).toBe(expected.length);
  expect(entry.compressedBytes).toBe(bytes.length);
  expect(entry.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  expect(entry.keyRange).toEqual({ first: 0, last: messages.length - 1 });
}

describe('PartWriter batch reuse', () => {
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
