import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SeedlineError } from '../common/errors.ts';
import { DatasetWriter } from './dataset-writer.ts';
import { frame } from './framing.ts';
import { MANIFEST_FILE, readManifest } from './manifest.ts';
import { decodePart, decodeStream, readPart, type ReadOptions } from './reader.ts';
import { MESSAGES_PROTO, MESSAGES_TYPE, encodeMessage, messagesType, tempDir, testProducer } from './test-support.ts';

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

/** `count` framed chat messages, and the byte offset where each record starts. */
function framedMessages(count: number): { bytes: Buffer; offsets: number[] } {
  const frames = Array.from({ length: count }, (_, i) => frame(encodeMessage(type, i)));
  const offsets: number[] = [];
  let at = 0;
  for (const f of frames) {
    offsets.push(at);
    at += f.length;
  }
  return { bytes: Buffer.concat(frames), offsets };
}

async function writeGz(name: string, uncompressed: Buffer): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, gzipSync(uncompressed));
  return file;
}

/** Decodes a part to the end; returns how many records arrived before the error. */
async function failReading(file: string, options: ReadOptions = {}): Promise<{ err: SeedlineError; delivered: number }> {
  let delivered = 0;
  try {
    for await (const batch of decodePart(file, (b) => type.decode(b), options)) delivered += batch.length;
  } catch (err) {
    expect(err).toBeInstanceOf(SeedlineError);
    return { err: err as SeedlineError, delivered };
  }
  throw new Error(`reading ${file} succeeded; expected an error`);
}

async function writeDataset(count: number): Promise<void> {
  const dataset = await DatasetWriter.create(dir, testProducer());
  const writer = dataset.streamWriter('Messages', { messageType: MESSAGES_TYPE, protoPath: MESSAGES_PROTO, maxPartBytes: 8192 });
  for (let i = 0; i < count; i++) await writer.write(encodeMessage(type, i), i);
  await writer.close();
  await dataset.finish();
}

async function failStream(): Promise<SeedlineError> {
  try {
    for await (const _ of decodeStream(dir, 'Messages', (b) => type.decode(b))) void _;
  } catch (err) {
    expect(err).toBeInstanceOf(SeedlineError);
    return err as SeedlineError;
  }
  throw new Error('reading the stream succeeded; expected an error');
}

describe('any protobuf library reads a part', () => {
  it('decodes with protobufjs decodeDelimited over the gunzipped bytes', async () => {
    await writeDataset(200);
    const part = (await readManifest(dir)).streams['Messages']!.parts[0]!;
    const reader = protobuf.Reader.create(gunzipSync(await readFile(join(dir, part.file))));
    const ids: number[] = [];
    while (reader.pos < reader.len) {
      const m = type.toObject(type.decodeDelimited(reader), { longs: Number });
      ids.push(m['MessageId'] as number);
    }
    expect(ids).toEqual(Array.from({ length: part.records }, (_, i) => 1_000_000_000_000 + i));
  });
});

describe('reading large records', () => {
  it('returns records that span many gunzip chunks intact', async () => {
    const big = [randomBytes(1_500_000), Buffer.alloc(0), randomBytes(700_000)];
    const file = await writeGz('big.pb.gz', Buffer.concat(big.map(frame)));
    const got: Buffer[] = [];
    for await (const r of readPart(file)) got.push(Buffer.from(r));
    expect(got).toHaveLength(3);
    got.forEach((r, i) => expect(r.equals(big[i]!)).toBe(true));
  });
});

describe('corrupt parts', () => {
  it('names the file and position of a truncated gzip stream', async () => {
    const { bytes } = framedMessages(3000);
    const whole = gzipSync(bytes);
    const file = join(dir, 'cut.pb.gz');
    const cut = Math.floor(whole.length / 2);
    await writeFile(file, whole.subarray(0, cut));
    const { err, delivered } = await failReading(file);
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context.file).toBe(file);
    expect(delivered).toBeGreaterThan(0);
    expect(err.context.record).toBe(delivered);
    expect(err.context.offset).toBe(cut); // compressed bytes read when gzip gave up
  });

  it('names the record cut short in a complete gzip stream', async () => {
    const { bytes, offsets } = framedMessages(100);
    const file = await writeGz('short.pb.gz', bytes.subarray(0, offsets[73]! + 4));
    const { err, delivered } = await failReading(file);
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context).toMatchObject({ file, record: 73, offset: offsets[73] });
    expect(delivered).toBe(73);
  });

  it('names a length prefix that never ends', async () => {
    const { bytes, offsets } = framedMessages(40);
    const file = await writeGz('varint.pb.gz', Buffer.concat([bytes.subarray(0, offsets[25]), Buffer.alloc(12, 0x80)]));
    const { err } = await failReading(file);
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context).toMatchObject({ file, record: 25, offset: offsets[25] });
    expect(err.message).toMatch(/varint/);
  });

  it('names a length over the default maximum', async () => {
    const { bytes } = framedMessages(10);
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3]); // claims 2 GiB
    const file = await writeGz('huge.pb.gz', Buffer.concat([bytes, huge]));
    const { err } = await failReading(file);
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context).toMatchObject({ file, record: 10, offset: bytes.length });
  });

  it('names a length over a configured maximum', async () => {
    const { bytes } = framedMessages(5);
    const file = await writeGz('max.pb.gz', Buffer.concat([bytes, frame(Buffer.alloc(5000))]));
    const { err } = await failReading(file, { maxRecordBytes: 4096 });
    expect(err.context).toMatchObject({ file, record: 5, offset: bytes.length });
  });

  it('names a record that does not decode as its message type', async () => {
    const { bytes, offsets } = framedMessages(30);
    const garbage = frame(Buffer.from([0x22, 0x10, 0x41])); // field Body claims 16 bytes, has 1
    const file = await writeGz('undecodable.pb.gz', Buffer.concat([bytes.subarray(0, offsets[12]), garbage, bytes.subarray(offsets[12])]));
    const { err, delivered } = await failReading(file);
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context).toMatchObject({ file, record: 12, offset: offsets[12] });
    expect(delivered).toBe(0); // the whole batch is refused, not half of it
  });

  it('names a part whose gzip data is damaged in the middle', async () => {
    const whole = gzipSync(framedMessages(3000).bytes);
    const at = Math.floor(whole.length / 2);
    whole[at] = whole[at]! ^ 0xff;
    const file = join(dir, 'flipped.pb.gz');
    await writeFile(file, whole);
    const { err } = await failReading(file);
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context.file).toBe(file);
    expect(err.context.offset).toBeGreaterThan(0);
  });

  it('names a missing part', async () => {
    const file = join(dir, 'nowhere.pb.gz');
    const { err } = await failReading(file);
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context.file).toBe(file);
  });
});

describe('parts checked against the manifest', () => {
  it('reports a part whose sha256 differs, even when it still decodes', async () => {
    await writeDataset(300);
    const part = (await readManifest(dir)).streams['Messages']!.parts[1]!;
    const file = join(dir, part.file);
    const bytes = await readFile(file);
    bytes[4] = bytes[4]! ^ 1; // the gzip header's mtime: gunzip does not care, sha256 does
    await writeFile(file, bytes);
    const err = await failStream();
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.context.file).toBe(file);
  });

  it('reports a part holding another number of records than the manifest says', async () => {
    await writeDataset(300);
    const manifestFile = join(dir, MANIFEST_FILE);
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    manifest.streams.Messages.parts[2].records += 1;
    await writeFile(manifestFile, JSON.stringify(manifest));
    const err = await failStream();
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.context.file).toBe(join(dir, manifest.streams.Messages.parts[2].file));
  });

  it('reports a part listed in the manifest but missing on disk', async () => {
    await writeDataset(300);
    const part = (await readManifest(dir)).streams['Messages']!.parts[0]!;
    await rm(join(dir, part.file));
    const err = await failStream();
    expect(err.code).toBe('CORRUPT_RECORD_FILE');
    expect(err.context.file).toBe(join(dir, part.file));
    expect(err.message).toMatch(/does not exist/);
  });

  it('reports a stream the data set does not have', async () => {
    await writeDataset(3);
    const err = await (async () => {
      try {
        for await (const _ of decodeStream(dir, 'Members', (b) => b)) void _;
      } catch (e) {
        return e as SeedlineError;
      }
      return null;
    })();
    expect(err?.code).toBe('MANIFEST_INVALID');
  });
});
