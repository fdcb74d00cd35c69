import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type protobuf from 'protobufjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SeedlineError } from '../common/errors.ts';
import { DatasetWriter } from './dataset-writer.ts';
import { readManifest } from './manifest.ts';
import { decodeStream, readPart } from './reader.ts';
import { MESSAGES_PROTO, MESSAGES_TYPE, encodeMessage, messagesType, sampleMessage, tempDir, testProducer } from './test-support.ts';

let type: protobuf.Type;
let dir: string;
let remove: () => Promise<void>;

beforeAll(async () => {
  type = await messagesType();
});
beforeEach(async () => {
  ({ path: dir, remove } = await tempDir());
});
afterEach(async () => {
  await remove();
});

const streamOptions = { messageType: MESSAGES_TYPE, protoPath: MESSAGES_PROTO, maxPartBytes: 4096 };

async function writeMessages(target: string, count: number, from = 0): Promise<DatasetWriter> {
  const dataset = await DatasetWriter.create(target, testProducer());
  const writer = dataset.streamWriter('Messages', streamOptions);
  for (let i = from; i < from + count; i++) await writer.write(encodeMessage(type, i), i);
  await writer.close({ note: 'written by a test' });
  await dataset.finish();
  return dataset;
}

async function readAll(target: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const batch of decodeStream(target, 'Messages', (b) => type.decode(b))) {
    for (const m of batch) rows.push(type.toObject(m, { longs: Number }));
  }
  return rows;
}

async function expectError(promise: Promise<unknown>): Promise<SeedlineError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SeedlineError);
  return err as SeedlineError;
}

describe('DatasetWriter + streamWriter', () => {
  it('round-trips records through several parts', async () => {
    await writeMessages(dir, 500);
    const rows = await readAll(dir);
    expect(rows).toHaveLength(500);
    rows.forEach((row, i) => expect(row).toEqual(type.toObject(type.fromObject(sampleMessage(i)), { longs: Number })));
    const files = (await readdir(join(dir, 'Messages'))).sort();
    expect(files.length).toBeGreaterThan(3);
    expect(files[0]).toBe('part-00000.pb.gz');
    expect(files.every((f) => /^part-\d{5}\.pb\.gz$/.test(f))).toBe(true); // no temporary files left
  });

  it('writes a manifest that describes every part exactly', async () => {
    await writeMessages(dir, 500);
    const manifest = await readManifest(dir);
    expect(manifest.complete).toBe(true);
    expect(manifest.producer.finishedAt).toBeDefined();
    const stream = manifest.streams['Messages']!;
    expect(stream).toMatchObject({ messageType: MESSAGES_TYPE, protoFile: 'schemas/Messages.proto', complete: true, records: 500 });
    expect(stream.info).toEqual({ note: 'written by a test' });
    expect(await readFile(join(dir, stream.protoFile), 'utf8')).toBe(await readFile(MESSAGES_PROTO, 'utf8'));
    let next = 0;
    for (const part of stream.parts) {
      const bytes = await readFile(join(dir, part.file));
      expect(part.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(part.compressedBytes).toBe(bytes.length);
      expect(part.uncompressedBytes).toBe(gunzipSync(bytes).length);
      // A part closes once it passes maxPartBytes, so it is never much larger.
      expect(part.uncompressedBytes).toBeLessThan(4096 + 200);
      expect(part.keyRange).toEqual({ first: next, last: next + part.records - 1 });
      next += part.records;
    }
    expect(next).toBe(500);
  });

  it('writes an empty stream as zero parts, still complete', async () => {
    await writeMessages(dir, 0);
    const stream = (await readManifest(dir)).streams['Messages']!;
    expect(stream).toMatchObject({ complete: true, records: 0, parts: [] });
    expect(await readAll(dir)).toEqual([]);
  });

  it('keeps a part under a temporary name until it is closed', async () => {
    const dataset = await DatasetWriter.create(dir, testProducer());
    await dataset.declareStream('Messages', streamOptions);
    const part = await dataset.openPart('Messages', dataset.takePartIndex('Messages'));
    for (let i = 0; i < 2000; i++) await part.write(encodeMessage(type, i));
    expect(await readdir(join(dir, 'Messages'))).toEqual(['.part-00000.pb.gz.tmp']);
    const entry = await part.close();
    expect(await readdir(join(dir, 'Messages'))).toEqual(['part-00000.pb.gz']);
    expect(entry).toMatchObject({ file: 'Messages/part-00000.pb.gz', records: 2000 });
    expect(entry.keyRange).toBeUndefined();
    // Not in the manifest until committed: a reader of the data set does not see it yet.
    expect((await readManifest(dir)).streams['Messages']!.parts).toEqual([]);
    await dataset.commitPart('Messages', entry);
    expect((await readManifest(dir)).streams['Messages']!.parts).toEqual([entry]);
  });

  it('leaves nothing behind when a part is aborted', async () => {
    const dataset = await DatasetWriter.create(dir, testProducer());
    const writer = dataset.streamWriter('Messages', { ...streamOptions, maxPartBytes: 1 << 20 });
    for (let i = 0; i < 3000; i++) await writer.write(encodeMessage(type, i));
    await writer.abort();
    expect(await readdir(join(dir, 'Messages'))).toEqual([]);
    expect((await readManifest(dir)).complete).toBe(false);
  });

  it('refuses to overwrite a complete data set unless told to', async () => {
    await writeMessages(dir, 10);
    const err = await expectError(DatasetWriter.create(dir, testProducer()));
    expect(err.code).toBe('OUTPUT_EXISTS');
    expect(err.context.file).toBe(dir);
    expect(err.hint).toMatch(/overwrite/);
    expect(await readAll(dir)).toHaveLength(10); // untouched

    await DatasetWriter.create(dir, testProducer(), { overwrite: true });
    expect(await readdir(dir)).toEqual(['manifest.json']);
    expect((await readManifest(dir)).streams).toEqual({});
  });

  it('replaces an incomplete data set without being told to, keeping foreign files', async () => {
    const dataset = await DatasetWriter.create(dir, testProducer());
    const writer = dataset.streamWriter('Messages', streamOptions);
    for (let i = 0; i < 200; i++) await writer.write(encodeMessage(type, i));
    await writeFile(join(dir, 'NOTES.txt'), 'mine');
    await DatasetWriter.create(dir, testProducer());
    expect((await readdir(dir)).sort()).toEqual(['NOTES.txt', 'manifest.json']);
    await writer.abort(); // closes the file handle the "crashed" writer still holds
  });

  it('refuses a directory that holds other files and no manifest', async () => {
    await mkdir(join(dir, 'photos'));
    await writeFile(join(dir, 'photos', 'a.jpg'), 'x');
    const err = await expectError(DatasetWriter.create(dir, testProducer(), { overwrite: true }));
    expect(err.code).toBe('OUTPUT_EXISTS');
    expect(await readdir(join(dir, 'photos'))).toEqual(['a.jpg']);
  });

  it('creates the directory when it does not exist', async () => {
    await writeMessages(join(dir, 'a', 'dump'), 3);
    expect(await readAll(join(dir, 'a', 'dump'))).toHaveLength(3);
  });
});

describe('DatasetWriter.resume', () => {
  it('keeps committed parts, deletes uncommitted files and continues numbering', async () => {
    const dataset = await DatasetWriter.create(dir, testProducer());
    const writer = dataset.streamWriter('Messages', streamOptions);
    for (let i = 0; i < 300; i++) await writer.write(encodeMessage(type, i), i);
    // "Crash": the open part stays a temporary file; simulate also a part renamed but not committed.
    const committed = (await readManifest(dir)).streams['Messages']!.parts;
    expect(committed.length).toBeGreaterThan(1);
    const lastCommitted = committed.at(-1)!.file;
    await copyFile(join(dir, lastCommitted), join(dir, 'Messages', 'part-00099.pb.gz'));
    const before = await readdir(join(dir, 'Messages'));
    expect(before.some((f) => f.endsWith('.tmp'))).toBe(true);

    const resumed = await DatasetWriter.resume(dir);
    const kept = (await readdir(join(dir, 'Messages'))).sort();
    expect(kept).toEqual(committed.map((p) => p.file.slice('Messages/'.length)));
    expect(resumed.manifest.complete).toBe(false);
    await writer.abort(); // closes the file handle the "crashed" writer still holds

    const records = committed.reduce((n, p) => n + p.records, 0);
    const again = resumed.streamWriter('Messages', streamOptions);
    for (let i = records; i < 600; i++) await again.write(encodeMessage(type, i), i);
    await again.close();
    await resumed.finish();

    const manifest = await readManifest(dir);
    expect(manifest.complete).toBe(true);
    expect(manifest.streams['Messages']!.records).toBe(600);
    const files = manifest.streams['Messages']!.parts.map((p) => p.file);
    expect(files[committed.length]).toBe(`Messages/part-${String(committed.length).padStart(5, '0')}.pb.gz`);
    const rows = await readAll(dir);
    expect(rows.map((r) => r['MessageId'])).toEqual(Array.from({ length: 600 }, (_, i) => 1_000_000_000_000 + i));
  });

  it('fails with MANIFEST_INVALID when there is nothing to resume', async () => {
    const err = await expectError(DatasetWriter.resume(dir));
    expect(err.code).toBe('MANIFEST_INVALID');
  });
});

describe('readPart', () => {
  it('returns the raw bytes that were written', async () => {
    await writeMessages(dir, 50);
    const first = (await readManifest(dir)).streams['Messages']!.parts[0]!;
    const got: Buffer[] = [];
    for await (const r of readPart(join(dir, first.file))) got.push(Buffer.from(r));
    expect(got).toHaveLength(first.records);
    got.forEach((r, i) => expect(r.equals(Buffer.from(encodeMessage(type, i)))).toBe(true));
    expect((await stat(join(dir, first.file))).size).toBe(first.compressedBytes);
  });
});
