import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVELOPE_PROTO, ENVELOPE_TYPE, envelopeType } from '../common/protos.ts';
import { DatasetWriter } from './dataset-writer.ts';
import { eventStreams, moduleStreamName, type EventStream } from './events-dataset.ts';
import { readManifest } from './manifest.ts';
import { readMergedEvents, skipPlan, type PartOpener } from './merged-events.ts';
import { tempDir, testProducer } from './test-support.ts';

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ path: dir, remove } = await tempDir()));
afterEach(() => remove());

interface Planned {
  readonly module: string;
  readonly moduleIndex: number;
  /** occurred_at of each event, in stream order (non-decreasing). */
  readonly times: readonly number[];
}

/**
 * Writes one stream per module, small parts; each event's id names its module and place. Each
 * part's keyRange is its first and last occurred_at, as transform records it
 * (transformer/module-streams.ts); `keys: false` writes parts without, as older writers did.
 */
async function writeStreams(planned: readonly Planned[], options: { keys?: boolean; maxPartBytes?: number } = {}): Promise<void> {
  const Event = await envelopeType();
  const writer = await DatasetWriter.create(dir, testProducer(), { overwrite: true });
  for (const { module, moduleIndex, times } of planned) {
    const stream = writer.streamWriter(moduleStreamName(module), { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO, maxPartBytes: options.maxPartBytes ?? 300 });
    for (const [i, t] of times.entries()) {
      await stream.write(Event.encode({ id: `${module}-${i}`, type: `${module}.x`, occurred_at: t }).finish(), options.keys === false ? undefined : t);
    }
    await stream.close({ module, moduleIndex });
  }
  await writer.finish();
}

/** The (occurred_at, module index, position in its stream) order of `planned`, sorted independently of the reader. */
function expectedOrder(planned: readonly Planned[]): string[] {
  return planned
    .flatMap((p) => p.times.map((t, i) => ({ t, m: p.moduleIndex, i, id: `${p.module}-${i}` })))
    .sort((a, b) => a.t - b.t || a.m - b.m || a.i - b.i)
    .map((e) => e.id);
}

/** An opener that notes every part file it opens (the default opener's files). */
function countingOpener(opened: string[]): PartOpener {
  return async function* (base, parts) {
    for (const entry of parts) {
      opened.push(entry.file);
      yield { file: join(base, entry.file), entry };
    }
  };
}

async function mergedIds(start = 0, openParts?: PartOpener): Promise<{ first: number; ids: string[] }> {
  const Event = await envelopeType();
  const streams = eventStreams(await readManifest(dir), dir);
  const ids: string[] = [];
  let first = -1;
  let expectedNext = start;
  for await (const batch of readMergedEvents(dir, streams, { start, decode: (b) => (Event.decode(b) as unknown as { id: string }).id, batchSize: 7, openParts })) {
    if (first < 0) first = batch.first;
    expect(batch.first).toBe(expectedNext);
    expectedNext += batch.events.length;
    ids.push(...batch.events);
  }
  return { first, ids };
}

describe('readMergedEvents', () => {
  it('merges per-module streams by (occurred_at, module index), keeping each stream in its order', async () => {
    // Listed out of module order on purpose; ties across modules, runs of ties within one, a negative and a zero (absent on the wire) time.
    const planned: Planned[] = [
      { module: 'chat', moduleIndex: 2, times: [-5, 0, 0, 10, 10, 10, 20, 30, 30, 31, 1e15, 1e15] },
      { module: 'members', moduleIndex: 0, times: [0, 10, 10, 25, 30, 1e15] },
      { module: 'likes', moduleIndex: 7, times: [] },
      { module: 'photos', moduleIndex: 1, times: [-5, 10, 31, 32, 33, 34, 35, 36, 37] },
    ];
    for (const keys of [true, false]) {
      await writeStreams(planned, { keys });
      // The documented key, sorted independently: (occurred_at, module index, position in its stream).
      const expected = expectedOrder(planned);
      expect(eventStreams(await readManifest(dir), dir).map((s) => s.name)).toEqual(['events.members', 'events.photos', 'events.chat', 'events.likes']);
      expect((await mergedIds()).ids).toEqual(expected);
      // From every start (whole parts skipped by their key ranges, or, without, read from the first): the same tail, with global indexes.
      for (let start = 1; start <= expected.length + 1; start++) {
        const { first, ids } = await mergedIds(start);
        expect(ids).toEqual(expected.slice(start));
        if (ids.length > 0) expect(first).toBe(start);
      }
    }
  });

  it('does not open the parts that lie wholly before the start, also beside a stream whose one part spans the whole time', async () => {
    // chat: 1,000 events at times 0..999, ~25 parts; members: every tenth time, a few parts; blocks: one part from 0 to 1000.
    const planned: Planned[] = [
      { module: 'members', moduleIndex: 0, times: Array.from({ length: 100 }, (_, i) => i * 10) },
      { module: 'chat', moduleIndex: 2, times: Array.from({ length: 1000 }, (_, i) => i) },
      { module: 'blocks', moduleIndex: 6, times: [0, 500, 1000] },
    ];
    await writeStreams(planned, { maxPartBytes: 1000 });
    const expected = expectedOrder(planned);
    const manifest = await readManifest(dir);
    const chatParts = manifest.streams['events.chat']!.parts;
    expect(chatParts.length).toBeGreaterThan(20);
    expect(manifest.streams['events.blocks']!.parts).toHaveLength(1);

    // 90% through: chat's time ~900.
    const start = Math.floor(expected.length * 0.9);
    const opened: string[] = [];
    const { first, ids } = await mergedIds(start, countingOpener(opened));
    expect(ids).toEqual(expected.slice(start));
    expect(first).toBe(start);
    const openedChat = opened.filter((f) => f.startsWith('events.chat/'));
    expect(openedChat.length).toBeLessThanOrEqual(4);
    expect(opened).toContain(manifest.streams['events.blocks']!.parts[0]!.file);

    // Parts wholly before the start are never read: with their files gone the tail is the same.
    for (const part of chatParts) if ((part.keyRange!.last as number) < 800) await rm(join(dir, part.file));
    expect(await mergedIds(start)).toEqual({ first, ids });
  });

  it('plans the skip by key ranges (numbers or decimal text), and skips nothing when a part has none', () => {
    const stream = (module: string, moduleIndex: number, parts: [unknown, unknown, number][]): EventStream => ({
      name: `events.${module}`,
      module,
      moduleIndex,
      entry: {
        messageType: ENVELOPE_TYPE,
        protoFile: 'schemas/envelope.proto',
        complete: true,
        records: parts.reduce((n, p) => n + p[2], 0),
        parts: parts.map(([first, last, records], i) => ({
          file: `events.${module}/part-${i}.pb.gz`,
          records,
          uncompressedBytes: 1,
          compressedBytes: 1,
          sha256: '',
          ...(first === undefined ? {} : { keyRange: { first, last } }),
        })),
      },
    });
    const big = '9007199254740993'; // 2^53 + 1: written as text
    const streams = [
      stream('members', 0, [[1, 10, 5], [10, 20, 5], [20, big, 5]]),
      stream('chat', 2, [[1, 9, 5], [10, 10, 5], ['9007199254740992', big, 5]]),
    ];
    expect(skipPlan(streams, 0)).toEqual({ skip: [0, 0], index: 0 });
    // Records < (10, members) are at most members' first part and chat's first: 10 <= 12.
    expect(skipPlan(streams, 12)).toEqual({ skip: [0, 1], index: 5 });
    // Up to (20, members): 20 records may come before it; members' part 1 ends at it, so it is read.
    expect(skipPlan(streams, 20)).toEqual({ skip: [1, 2], index: 15 });
    // Ties on occurred_at go by module index: (10, chat) comes after (10, members).
    expect(skipPlan(streams, 10)).toEqual({ skip: [0, 1], index: 5 });
    expect(skipPlan(streams, 29)).toEqual({ skip: [2, 2], index: 20 });
    expect(skipPlan(streams, 30)).toEqual({ skip: [3, 3], index: 30 });
    expect(skipPlan(streams, 31)).toEqual({ skip: [3, 3], index: 30 });
    // One part without a key range (an older writer): every stream is read from its start.
    const old = [stream('members', 0, [[1, 10, 5], [undefined, undefined, 5]]), stream('chat', 2, [[1, 9, 5]])];
    expect(skipPlan(old, 14)).toEqual({ skip: [0, 0], index: 0 });
    // A key range of something else (a dump's key columns) is no time either.
    expect(skipPlan([stream('members', 0, [[['1'], ['9'], 5]]), stream('chat', 2, [[1, 9, 5]])], 9)).toEqual({ skip: [0, 0], index: 0 });
  });

  it('names the file and record of an envelope whose occurred_at cannot be read', async () => {
    await writeStreams([
      { module: 'members', moduleIndex: 0, times: [1, 2] },
      { module: 'chat', moduleIndex: 2, times: [1] },
    ]);
    // A second data set by hand: chat's record is a truncated varint in field 3.
    const writer = await DatasetWriter.create(join(dir, 'bad'), testProducer());
    const stream = writer.streamWriter(moduleStreamName('chat'), { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO });
    await stream.write(Buffer.from([0x18, 0xff]));
    await stream.close({ module: 'chat', moduleIndex: 2 });
    const members = writer.streamWriter(moduleStreamName('members'), { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO });
    await members.write(Buffer.from([0x18, 0x01]));
    await members.close({ module: 'members', moduleIndex: 0 });
    await writer.finish();
    const bad = join(dir, 'bad');
    const streams = eventStreams(await readManifest(bad), bad);
    const read = async () => {
      for await (const _ of readMergedEvents(bad, streams, { decode: (b) => b })) void _;
    };
    await expect(read()).rejects.toMatchObject({ code: 'CORRUPT_RECORD_FILE', context: { file: join(bad, 'events.chat', 'part-00000.pb.gz'), record: 0 } });
  });

  it('reads a data set of the older single-stream layout as it is, and refuses one without event streams', async () => {
    const Event = await envelopeType();
    const writer = await DatasetWriter.create(dir, testProducer());
    const stream = writer.streamWriter('events', { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO, maxPartBytes: 100 });
    for (let i = 0; i < 20; i++) await stream.write(Event.encode({ id: `e-${i}`, occurred_at: 100 - i }).finish()); // whatever order it holds
    await stream.close();
    await writer.finish();
    const { first, ids } = await mergedIds(5);
    expect(first).toBe(5);
    expect(ids).toEqual(Array.from({ length: 15 }, (_, i) => `e-${i + 5}`));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...(await readManifest(dir)), streams: {} }));
    expect(() => eventStreams({ format: 'seedline-records', formatVersion: 1, producer: testProducer(), complete: true, streams: {} }, dir)).toThrow(/not an events data set/);
  });
});
