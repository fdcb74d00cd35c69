import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVELOPE_PROTO, ENVELOPE_TYPE, envelopeType } from '../common/protos.ts';
import { DatasetWriter } from './dataset-writer.ts';
import { eventStreams, moduleStreamName } from './events-dataset.ts';
import { readManifest } from './manifest.ts';
import { readMergedEvents } from './merged-events.ts';
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

/** Writes one stream per module, small parts; each event's id names its module and place. */
async function writeStreams(planned: readonly Planned[]): Promise<void> {
  const Event = await envelopeType();
  const writer = await DatasetWriter.create(dir, testProducer());
  for (const { module, moduleIndex, times } of planned) {
    const stream = writer.streamWriter(moduleStreamName(module), { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO, maxPartBytes: 300 });
    for (const [i, t] of times.entries()) await stream.write(Event.encode({ id: `${module}-${i}`, type: `${module}.x`, occurred_at: t }).finish());
    await stream.close({ module, moduleIndex });
  }
  await writer.finish();
}

async function mergedIds(start = 0): Promise<{ first: number; ids: string[] }> {
  const Event = await envelopeType();
  const streams = eventStreams(await readManifest(dir), dir);
  const ids: string[] = [];
  let first = -1;
  let expectedNext = start;
  for await (const batch of readMergedEvents(dir, streams, { start, decode: (b) => (Event.decode(b) as unknown as { id: string }).id, batchSize: 7 })) {
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
    await writeStreams(planned);
    // The documented key, sorted independently: (occurred_at, module index, position in its stream).
    const expected = planned
      .flatMap((p) => p.times.map((t, i) => ({ t, m: p.moduleIndex, i, id: `${p.module}-${i}` })))
      .sort((a, b) => a.t - b.t || a.m - b.m || a.i - b.i)
      .map((e) => e.id);
    expect(eventStreams(await readManifest(dir), dir).map((s) => s.name)).toEqual(['events.members', 'events.photos', 'events.chat', 'events.likes']);
    expect((await mergedIds()).ids).toEqual(expected);
    // From any start: the same tail, with global indexes.
    for (const start of [1, 6, 13, expected.length - 1, expected.length]) {
      const { first, ids } = await mergedIds(start);
      expect(ids).toEqual(expected.slice(start));
      if (ids.length > 0) expect(first).toBe(start);
    }
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
