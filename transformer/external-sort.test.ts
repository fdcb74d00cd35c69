import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExternalSorter } from './external-sort.ts';
import { writeVarint32, varint32Size } from '../recordfile/index.ts';
import { readSortRun } from './sort-run-file.ts';
import { tempDir } from './test-support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** Deterministic pseudo-random records with many duplicates and shared prefixes. */
function records(n: number, seed = 1): Buffer[] {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, () => Buffer.from(Array.from({ length: 1 + (next() % 12) }, () => next() % 4)));
}

function encodeVarint(n: number): Buffer {
  const out = Buffer.alloc(varint32Size(n));
  writeVarint32(out, 0, n);
  return out;
}

async function drain(sorter: ExternalSorter): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const batch of sorter.sorted()) for (const r of batch) out.push(Buffer.from(r));
  return out;
}

async function sortAll(input: Buffer[], runBytes: number, fanIn?: number) {
  const sorter = new ExternalSorter({ runBytes, tmpDir: join(dir, 'runs'), fanIn });
  for (const r of input) await sorter.add(r);
  const out = await drain(sorter);
  const spilled = await readdir(join(dir, 'runs')).catch(() => []);
  await sorter.dispose();
  return { out, runs: sorter.runCount, spilled };
}

describe('external sort', () => {
  it('sorts in memory when the records fit, touching no disk', async () => {
    const input = records(1000);
    const { out, runs, spilled } = await sortAll(input, 1 << 30);
    expect(runs).toBe(0);
    expect(spilled).toEqual([]);
    expect(out).toEqual([...input].sort(Buffer.compare));
  });

  it('spills sorted runs beyond the budget and merges them into the same order', async () => {
    const input = records(20_000, 7);
    const { out, runs, spilled } = await sortAll(input, 50_000);
    expect(runs).toBeGreaterThan(5);
    expect(spilled.length).toBe(runs);
    expect(out).toEqual([...input].sort(Buffer.compare));
  });

  it('merges the last run from memory: it is not written to disk', async () => {
    const input = records(20_000, 5);
    const sorter = new ExternalSorter({ runBytes: 50_000, tmpDir: join(dir, 'runs') });
    for (const r of input) await sorter.add(r);
    const batches = sorter.sorted();
    const first = await batches.next(); // the merge has started: every run that will be on disk is there
    let onDisk = 0;
    for (const file of await readdir(join(dir, 'runs'))) for await (const b of readSortRun(join(dir, 'runs', file))) onDisk += b.length;
    let out = first.done ? 0 : first.value.length;
    for await (const b of batches) out += b.length;
    await sorter.dispose();
    expect(out).toBe(input.length);
    expect(onDisk).toBeGreaterThan(0);
    expect(onDisk).toBeLessThan(input.length);
  });

  it('merges in several levels when there are more runs than the fan-in', async () => {
    const input = records(5_000, 3);
    const { out, runs } = await sortAll(input, 5_000, 3);
    expect(runs).toBeGreaterThan(9);
    expect(out).toEqual([...input].sort(Buffer.compare));
  });

  it('handles no records and a single record', async () => {
    expect((await sortAll([], 10)).out).toEqual([]);
    expect((await sortAll([Buffer.from([5])], 1)).out).toEqual([Buffer.from([5])]);
  });

  it('removes its spilled runs on dispose', async () => {
    const sorter = new ExternalSorter({ runBytes: 500, tmpDir: join(dir, 'runs') });
    for (const r of records(200)) await sorter.add(r);
    expect((await readdir(join(dir, 'runs'))).length).toBeGreaterThan(1);
    await sorter.dispose();
    await expect(readdir(join(dir, 'runs'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('copies each record on add (the caller may reuse its buffer), records bigger than a chunk included', async () => {
    let s = 5;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    // 64 KB chunks at this budget: some records need a chunk of their own, some runs reuse chunks.
    const input = Array.from({ length: 60 }, (_, i) => Buffer.alloc(i % 7 === 0 ? 100_000 : 1 + (next() % 3000), next() % 256));
    const sorter = new ExternalSorter({ runBytes: 400_000, tmpDir: join(dir, 'runs') });
    const scratch = Buffer.alloc(100_000);
    for (const r of input) {
      r.copy(scratch);
      const wait = sorter.add(scratch.subarray(0, r.length));
      scratch.fill(0xee); // what a reusing caller does next; the sorter must have its own copy
      if (wait) await wait;
    }
    const out = await drain(sorter);
    expect(sorter.runCount).toBeGreaterThan(1);
    await sorter.dispose();
    expect(out).toEqual([...input].sort(Buffer.compare));
  });
});

describe('external sort, merging runs of many read blocks (4 MB each, reused)', () => {
  it('keeps every record intact when read blocks are recycled, records bigger than a block included', async () => {
    let s = 9;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    // ~30 MB in 3 runs (2 spilled, each spanning several read blocks; the last merged from memory); one record is bigger than a block.
    const input = Array.from({ length: 3000 }, (_, i) => {
      const r = Buffer.alloc(i === 1500 ? 5 * 1024 * 1024 : 1 + (next() % 20_000));
      for (let j = 0; j < r.length; j += 997) r[j] = next() & 0xff;
      return r;
    });
    const sorter = new ExternalSorter({ runBytes: 12 * 1024 * 1024, tmpDir: join(dir, 'runs') });
    for (const r of input) await sorter.add(r);
    const digests: string[] = [];
    for await (const batch of sorter.sorted()) for (const r of batch) digests.push(createHash('sha1').update(r).digest('hex'));
    expect(sorter.runCount).toBeGreaterThanOrEqual(2);
    await sorter.dispose();
    expect(digests).toEqual([...input].sort(Buffer.compare).map((r) => createHash('sha1').update(r).digest('hex')));
  });
});

describe('external sort of framed batches (what the worker threads send)', () => {
  it('gives the same order as adding the records one by one, spilling in the middle of a batch', async () => {
    const input = records(20_000, 11);
    const framed: Buffer[] = [];
    for (let i = 0; i < input.length; i += 3000) framed.push(Buffer.concat(input.slice(i, i + 3000).flatMap((r) => [Buffer.from([r.length]), r])));
    const sorter = new ExternalSorter({ runBytes: 40_000, tmpDir: join(dir, 'runs') });
    for (const batch of framed) await sorter.addFramed(batch);
    const out = await drain(sorter);
    expect(sorter.runCount).toBeGreaterThan(5);
    await sorter.dispose();
    expect(out).toEqual([...input].sort(Buffer.compare));
  });

  it('keeps records intact across chunk boundaries, multi-byte framing and records bigger than a chunk', async () => {
    let s = 5;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    // 128 KB chunks (runBytes / 16); batches of ~1 MB cross several; one record is bigger than a chunk.
    const input = Array.from({ length: 4000 }, (_, i) => {
      const r = Buffer.alloc(i === 2222 ? 200_000 : 1 + (next() % 3000));
      for (let j = 0; j < r.length; j += 61) r[j] = next() & 0xff;
      return r;
    });
    const framed: Buffer[] = [];
    for (let i = 0; i < input.length; i += 700) {
      framed.push(Buffer.concat(input.slice(i, i + 700).flatMap((r) => [encodeVarint(r.length), r])));
    }
    const sorter = new ExternalSorter({ runBytes: 2 * 1024 * 1024, tmpDir: join(dir, 'runs') });
    for (const batch of framed) await sorter.addFramed(batch);
    const out = await drain(sorter);
    expect(sorter.runCount).toBeGreaterThanOrEqual(2);
    await sorter.dispose();
    expect(out.length).toBe(input.length);
    expect(out).toEqual([...input].sort(Buffer.compare));
  });

  it('keeps the merge within mergeBytes however many runs there are (smaller blocks, fewer runs at once)', async () => {
    // 40 runs of 256 KB. Merging them with 4 MB read blocks each (the old way) held 160 MB.
    let s = 3;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    const input = Array.from({ length: 100_000 }, () => Buffer.from(Array.from({ length: 100 }, () => next() % 251)));
    const sorter = new ExternalSorter({ runBytes: 256 * 1024, mergeBytes: 1024 * 1024, tmpDir: join(dir, 'runs') });
    for (const r of input) await sorter.add(r);
    expect(sorter.runCount).toBeGreaterThan(30);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let count = 0;
    let last: Buffer | null = null;
    for await (const batch of sorter.sorted()) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      for (const r of batch) {
        if (last) expect(Buffer.compare(last, r)).toBeLessThanOrEqual(0);
        last = Buffer.from(r);
        count++;
      }
    }
    await sorter.dispose();
    expect(count).toBe(input.length);
    // 1 MB of read blocks, 8 MB of write blocks for the intermediate merges, the last run's arena, slack.
    expect(peak).toBeLessThan(24 * 1024 * 1024);
  });

  it('refuses a damaged batch', async () => {
    const sorter = new ExternalSorter({ runBytes: 1 << 20, tmpDir: join(dir, 'runs') });
    await expect(sorter.addFramed(Buffer.from([5, 1, 2]))).rejects.toThrow(/damaged batch/);
    await sorter.dispose();
  });
});
