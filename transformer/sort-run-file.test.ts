import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SortRunWriter, readSortRun } from './sort-run-file.ts';
import { tempDir } from './test-support.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

async function writeRun(file: string, records: readonly Buffer[]): Promise<void> {
  const writer = await SortRunWriter.create(file);
  for (const r of records) {
    const wait = writer.write(r);
    if (wait) await wait;
  }
  await writer.close();
}

async function readAll(file: string, expect?: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const batch of readSortRun(file, expect)) for (const r of batch) out.push(Buffer.from(r));
  return out;
}

describe('sort run files', () => {
  it('reads back every record, records straddling the 4 MB blocks and bigger than a block included', async () => {
    const file = join(dir, 'run.pb');
    // 3,000-byte records put boundaries in the middle of records; the 5 MB one spans two blocks.
    const records = Array.from({ length: 4000 }, (_, i) => Buffer.alloc(i === 1500 ? 5 * 1024 * 1024 : 1 + ((i * 7919) % 3000), i % 251));
    await writeRun(file, records);
    const back = await readAll(file, records.length);
    expect(back.length).toBe(records.length);
    expect(back.every((r, i) => r.equals(records[i]!))).toBe(true);
  });

  it('is plain protobuf delimited framing, uncompressed', async () => {
    const file = join(dir, 'run.pb');
    await writeRun(file, [Buffer.from([1, 2]), Buffer.alloc(0), Buffer.from([3])]);
    expect([...(await readFile(file))]).toEqual([2, 1, 2, 0, 1, 3]);
  });

  it('names the file and offset when a run is cut short', async () => {
    const file = join(dir, 'run.pb');
    await writeRun(file, [Buffer.alloc(100, 1), Buffer.alloc(100, 2)]);
    await truncate(file, 150);
    await expect(readAll(file)).rejects.toMatchObject({ code: 'CORRUPT_RECORD_FILE', context: { file, offset: 101 } });
  });

  it('fails when the run holds another number of records than were written', async () => {
    const file = join(dir, 'run.pb');
    await writeFile(file, Buffer.from([1, 9]));
    await expect(readAll(file, 2)).rejects.toMatchObject({ code: 'CORRUPT_RECORD_FILE', context: { file } });
    await expect(readAll(join(dir, 'missing.pb'))).rejects.toMatchObject({ code: 'CORRUPT_RECORD_FILE' });
  });
});
