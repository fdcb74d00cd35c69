import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatasetWriter, type StreamOptions } from './dataset-writer.ts';
import { readManifest } from './manifest.ts';
import { MESSAGES_PROTO, MESSAGES_TYPE, encodeMessage, messagesType, tempDir, testProducer } from './test-support.ts';

/** StreamWriter with `parallelParts`: parts gzipped at the same time, the same bytes as one at a time. */
let type: protobuf.Type;
let dir: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  type = await messagesType();
});
beforeEach(async () => ({ path: dir, remove } = await tempDir()));
afterEach(() => remove());

async function write(target: string, options: Partial<StreamOptions>, count: number): Promise<void> {
  const dataset = await DatasetWriter.create(target, testProducer());
  const writer = dataset.streamWriter('Messages', { messageType: MESSAGES_TYPE, protoPath: MESSAGES_PROTO, maxPartBytes: 64 * 1024, ...options });
  for (let i = 0; i < count; i++) {
    const wait = writer.write(encodeMessage(type, i), i);
    if (wait) await wait;
  }
  await writer.close();
  await dataset.finish();
}

async function partsOf(target: string) {
  const stream = (await readManifest(target)).streams['Messages']!;
  const bytes = await Promise.all(stream.parts.map((p) => readFile(join(target, p.file))));
  return { parts: stream.parts, records: stream.records, bytes };
}

describe('parallel part compression', () => {
  it('writes byte-identical parts and the same manifest entries as one part at a time, at any level', async () => {
    for (const gzipLevel of [1, 6]) {
      await write(join(dir, `one-${gzipLevel}`), { gzipLevel }, 6000);
      await write(join(dir, `three-${gzipLevel}`), { gzipLevel, parallelParts: 3 }, 6000);
      const one = await partsOf(join(dir, `one-${gzipLevel}`));
      const three = await partsOf(join(dir, `three-${gzipLevel}`));
      expect(one.parts.length).toBeGreaterThan(5);
      expect(three.parts).toEqual(one.parts); // file, records, sizes, sha256, key ranges; in file order
      expect(three.records).toBe(6000);
      three.bytes.forEach((b, i) => expect(b.equals(one.bytes[i]!)).toBe(true));
    }
  });

  it('commits no part that was still being compressed when the stream is aborted', async () => {
    const dataset = await DatasetWriter.create(dir, testProducer());
    const writer = dataset.streamWriter('Messages', { messageType: MESSAGES_TYPE, protoPath: MESSAGES_PROTO, maxPartBytes: 64 * 1024, parallelParts: 4, gzipLevel: 9 });
    for (let i = 0; i < 3000; i++) {
      const wait = writer.write(encodeMessage(type, i), i);
      if (wait) await wait;
    }
    await writer.abort();
    const committed = (await readManifest(dir)).streams['Messages']!.parts.map((p) => p.file.replace('Messages/', ''));
    // Whatever was committed before the abort is on disk; nothing else is, not even a temporary file.
    expect((await readdir(join(dir, 'Messages'))).sort()).toEqual(committed.sort());
    expect(() => writer.write(encodeMessage(type, 0))).toThrow();
  });
});
