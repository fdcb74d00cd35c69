import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedlineError } from '../../common/errors.ts';
import { readManifest, streamOf, type PartEntry } from '../../recordfile/index.ts';
import { seed } from '../seed.ts';
import { SeedFailure } from '../summary.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from '../test-helpers.ts';

/** Position of a test event in the stream, from its id (makeEvents numbers them). */
function positionOf(messageId: unknown): number {
  return Number(String(messageId).slice(-12));
}

describe('seed: a damaged part is refused before any of its events is published', () => {
  let dir: string;
  let parts: readonly PartEntry[];
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(10_000, undefined, 500), { maxPartBytes: 600_000 });
    parts = streamOf(await readManifest(dir), 'events', dir).parts;
    expect(parts.length).toBeGreaterThanOrEqual(3);
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  /** Seeds `dir` after `damage(file of part n)`, restores it, and returns the error and what an independent consumer received. */
  async function seedDamaged(part: number, damage: (file: string) => Promise<void>): Promise<{ err: SeedlineError; published: number; positions: number[] }> {
    const file = join(dir, parts[part]!.file);
    const original = await readFile(file);
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    try {
      await damage(file);
      const err = await seed({ events: dir, exchange, checkpoint: false, progress: 'off' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SeedlineError);
      // A run that published nothing fails with the plain error; otherwise with the counts so far.
      const published = err instanceof SeedFailure ? err.result.published : 0;
      // Every event the run published was confirmed: the consumer gets exactly those (and would get more, were there any).
      const received = await consumer.waitFor(published);
      return { err: err as SeedlineError, published, positions: received.map((m) => positionOf(m.properties.messageId)) };
    } finally {
      await writeFile(file, original);
      await consumer.close();
      await deleteExchange(exchange);
    }
  }

  it('one flipped bit in the middle of the second part: the first part goes out, nothing of the second; the error names the file', async () => {
    const { err, published, positions } = await seedDamaged(1, async (file) => {
      const bytes = await readFile(file);
      bytes[bytes.length >> 1]! ^= 0x10;
      await writeFile(file, bytes);
    });
    const firstPart = parts[0]!.records;
    expect(positions.filter((p) => p >= firstPart)).toEqual([]);
    expect(new Set(positions).size).toBe(firstPart);
    expect(published).toBe(firstPart);
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.message).toContain(join(dir, parts[1]!.file));
    expect(err.context.file).toBe(join(dir, parts[1]!.file));
  });

  it('a truncated first part: nothing is published at all', async () => {
    const { err, published, positions } = await seedDamaged(0, async (file) => {
      await truncate(file, Math.floor((await stat(file)).size * 0.6));
    });
    expect(published).toBe(0);
    expect(positions).toEqual([]);
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.message).toContain(join(dir, parts[0]!.file));
    expect(err.message).toMatch(/truncated/);
  });

  it('an undamaged data set still goes out whole, every part checked', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    try {
      const result = await seed({ events: dir, exchange, checkpoint: false, progress: 'off' });
      expect(result.confirmed).toBe(10_000);
      expect(new Set((await consumer.waitFor(10_000)).map((m) => positionOf(m.properties.messageId))).size).toBe(10_000);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });
});
