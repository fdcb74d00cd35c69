import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeType, type EventEnvelope } from '../common/protos.ts';
import { combinedEntry, decodeEvents, eventStreams, readManifest } from '../recordfile/index.ts';
import { memberRow, messageRow, tempDir, writeDump } from '../transformer/test-support.ts';
import { transform } from '../transformer/transform.ts';
import { DEFAULT_URL, redactUrl } from './broker/broker.ts';
import { CHECKPOINT_FORMAT, checkpointKey, writeCheckpoint } from './checkpoint.ts';
import { seed } from './seed.ts';
import { TestConsumer, deleteExchange, uniqueName } from './test-helpers.ts';

/**
 * Seed reads an events data set of one stream per module merged (recordfile/merged-events.ts):
 * it publishes in the merged order, and a checkpoint's position is an index in that order.
 */
describe('seed: an events data set of one stream per module', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let events: string;
  let ids: string[];

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    const T0 = 1_262_304_000_000_000n;
    // Members and messages with ties across the two modules (at 19 s), every member registered
    // by the time a message names them (the transform rejects a message from a member registered later).
    await writeDump(join(dir, 'dump'), {
      Members: Array.from({ length: 60 }, (_, i) => memberRow({ MemberId: i + 1, RegisteredAt: T0 + BigInt(i % 20) * 1_000_000n })),
      Messages: Array.from({ length: 400 }, (_, i) =>
        messageRow({ MessageId: BigInt(i + 1), SenderId: (i % 60) + 1, RecipientId: ((i + 7) % 60) + 1, SentAt: T0 + BigInt(19 + (i % 25)) * 1_000_000n, ReadAt: null }),
      ),
    }, { maxPartBytes: 4_000 });
    events = join(dir, 'events');
    await transform({ dump: join(dir, 'dump'), out: events, modules: ['members', 'chat'], maxPartBytes: 8_000, progress: 'off' });
    const streams = eventStreams(await readManifest(events), events);
    expect(streams.map((s) => s.name)).toEqual(['events.members', 'events.chat']);
    expect(streams.every((s) => s.entry.parts.length > 1)).toBe(true);
    const Event = await envelopeType();
    ids = [];
    for await (const batch of decodeEvents(events, (b) => Event.decode(b) as unknown as EventEnvelope)) ids.push(...batch.map((e) => e.id));
    expect(ids.length).toBe(460);
  }, 60_000);
  afterAll(() => cleanup());

  it('publishes every event in the merged order', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    try {
      const result = await seed({ events, exchange, checkpoint: false, maxInFlight: 1, progress: 'off' });
      expect(result.total).toBe(ids.length);
      const got = await consumer.waitFor(ids.length);
      expect(got.map((m) => m.properties.messageId)).toEqual(ids);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });

  it('resumes at a checkpoint position counted in the merged order', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    const file = join(dir, `${exchange}.checkpoint.json`);
    try {
      const streams = eventStreams(await readManifest(events), events);
      const key = checkpointKey(events, combinedEntry(streams), exchange, redactUrl(DEFAULT_URL), 'run-1');
      await writeCheckpoint(file, { format: CHECKPOINT_FORMAT, version: 1, ...key, position: 173, complete: false, updatedAt: '' });
      const result = await seed({ events, exchange, checkpoint: file, resume: true, maxInFlight: 1, progress: 'off' });
      expect(result.startPosition).toBe(173);
      const got = await consumer.waitFor(ids.length - 173);
      expect(got.map((m) => m.properties.messageId)).toEqual(ids.slice(173));
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });

  it('resumes near the end without reading the parts wholly before the checkpoint (their files may be gone)', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    const copy = join(dir, `${exchange}-events`);
    const file = join(dir, `${exchange}.checkpoint.json`);
    try {
      await cp(events, copy, { recursive: true });
      const streams = eventStreams(await readManifest(copy), copy);
      // Every member registered (0-19 s) before the last chat messages (up to 43 s): 420 is well past members and chat's first part.
      const gone = [...streams[0]!.entry.parts, streams[1]!.entry.parts[0]!];
      for (const part of gone) await rm(join(copy, part.file));
      const key = checkpointKey(copy, combinedEntry(streams), exchange, redactUrl(DEFAULT_URL), 'run-1');
      await writeCheckpoint(file, { format: CHECKPOINT_FORMAT, version: 1, ...key, position: 420, complete: false, updatedAt: '' });
      const result = await seed({ events: copy, exchange, checkpoint: file, resume: true, maxInFlight: 8, progress: 'off' });
      expect(result.startPosition).toBe(420);
      const got = await consumer.waitFor(ids.length - 420);
      expect(got.map((m) => m.properties.messageId)).toEqual(ids.slice(420));
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });
});
