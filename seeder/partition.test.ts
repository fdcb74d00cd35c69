/**
 * `--partition i/N` seeders run together on one copy of the data set: each keeps its own
 * checkpoint, and together they publish every event once (real RabbitMQ on 5672).
 */
import { describe, expect, it } from 'vitest';
import { defaultCheckpointPath, readCheckpoint } from './checkpoint.ts';
import { Pace } from './pacing/pace.ts';
import { seed } from './seed.ts';
import { TestConsumer, deleteExchange, duplicatesOf, makeEvents, removeDataset, uniqueName, writeEventsDataset } from './test-helpers.ts';

describe('partitioned seeders on one data set', () => {
  it('keep one default checkpoint per partition and together publish every event exactly once', async () => {
    const events = await makeEvents(2_000, undefined, 50);
    const dir = await writeEventsDataset(events);
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    try {
      const partitions = [0, 1].map((index) => ({ index, count: 2 }));
      const results = await Promise.all(
        partitions.map((partition) => seed({ events: dir, exchange, maxInFlight: 100, progress: 'off', pace: new Pace({ selection: { partition } }) })),
      );
      const [p0, p1] = partitions.map((p) => defaultCheckpointPath(dir, exchange, p));
      expect(p0).not.toBe(p1);
      for (const [i, file] of [p0!, p1!].entries()) {
        expect(results[i]!.checkpoint).toBe(file);
        expect(await readCheckpoint(file)).toMatchObject({ complete: true, position: 2_000, runId: results[i]!.runId });
      }
      expect(results[0]!.confirmed + results[1]!.confirmed).toBe(2_000);
      const ids = (await consumer.waitFor(2_000)).map((m) => m.properties.messageId as string);
      expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
      expect(duplicatesOf(ids)).toBe(0);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
      await removeDataset(dir);
    }
  }, 60_000);
});
