import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isSeedlineError } from '../../common/errors.ts';
import { Pace } from '../pacing/pace.ts';
import { seed } from '../seed.ts';
import { parseSelection } from '../pacing/select.ts';
import { tapCommand } from './tap-cli.ts';
import { TAP_VERDICT_FORMAT, tap, writeVerdictJson, type TapVerdict } from './tap.ts';
import { deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from '../test-helpers.ts';

/** Starts tap, seeds once it is bound, returns the verdict. */
async function tapWhileSeeding(events: string, exchange: string, runSeed: () => Promise<unknown>, extra: Partial<Parameters<typeof tap>[0]> = {}): Promise<TapVerdict> {
  let ready!: () => void;
  const bound = new Promise<void>((r) => (ready = r));
  const verdict = tap({ events, exchange, progress: 'off', idleMs: 5_000, onReady: ready, ...extra });
  await bound;
  await runSeed();
  return verdict;
}

describe('seedline tap against seed on the real RabbitMQ', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(250, ['chat.message-sent', 'members.member-registered'], 7));
  });
  afterAll(async () => {
    await removeDataset(dir);
    process.exitCode = undefined;
  });

  it('every event arrives once, in order per key, with end-to-end latency: verdict OK', async () => {
    const exchange = uniqueName('seedline-t');
    try {
      const verdict = await tapWhileSeeding(dir, exchange, () =>
        seed({ events: dir, exchange, progress: 'off', checkpoint: false, runId: 'tap-ok', pace: new Pace({ sentAtHeader: true, rate: 2000 }) }),
        { runId: 'tap-ok' },
      );
      expect(verdict).toMatchObject({ expected: 250, arrived: 250, missing: 0, duplicates: 0, outOfOrder: 0, unexpected: 0, ok: true });
      expect(verdict.latency?.count).toBe(250);
      expect(verdict.latency!.p99).toBeLessThan(5_000_000);
    } finally {
      await deleteExchange(exchange);
    }
  });

  it('a seed that published only part of the data set: missing events, verdict FAILED, VERIFY_FAILED from the CLI', async () => {
    const exchange = uniqueName('seedline-t');
    try {
      const partial = () => seed({ events: dir, exchange, progress: 'off', checkpoint: false, pace: new Pace({ selection: parseSelection({ limit: '200' }) }) });
      const verdict = await tapWhileSeeding(dir, exchange, partial, { idleMs: 2_000 });
      expect(verdict).toMatchObject({ expected: 250, arrived: 200, missing: 50, ok: false });
      expect(verdict.missingIds[0]).toBe('00000000-0000-5000-8000-000000000200');
      expect(verdict.latency).toBeNull();

      // The same through the CLI: it exits non-zero (throws VERIFY_FAILED) and prints the verdict.
      let out = '';
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out += String(chunk);
        return true;
      });
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        if (String(chunk).includes('listening')) setTimeout(() => void partial(), 0);
        return true;
      });
      try {
        const err = await tapCommand().exitOverride().parseAsync(['--events', dir, '--exchange', exchange, '--idle', '2s', '--progress', 'off'], { from: 'user' }).catch((e: unknown) => e);
        expect(isSeedlineError(err, 'VERIFY_FAILED')).toBe(true);
      } finally {
        spy.mockRestore();
        stderr.mockRestore();
      }
      expect(out).toContain('tap FAILED: 200 of 250');
      expect(out).toMatch(/missing\s+50/);
    } finally {
      await deleteExchange(exchange);
    }
  });

  it('counts duplicates when the same events are published twice, and ignores other runs', async () => {
    const exchange = uniqueName('seedline-t');
    try {
      const verdict = await tapWhileSeeding(dir, exchange, async () => {
        await seed({ events: dir, exchange, progress: 'off', checkpoint: false, runId: 'dup' });
        await seed({ events: dir, exchange, progress: 'off', checkpoint: false, runId: 'dup', pace: new Pace({ selection: parseSelection({ limit: '30' }) }) });
        await seed({ events: dir, exchange, progress: 'off', checkpoint: false, runId: 'other' });
      }, { runId: 'dup' });
      expect(verdict).toMatchObject({ arrived: 250, duplicates: 30, missing: 0, outOfOrder: 0, ok: true });
    } finally {
      await deleteExchange(exchange);
    }
  });

  it('--queue reads an existing queue without taking its messages; counts per type; --json writes the verdict', async () => {
    const exchange = uniqueName('seedline-t');
    const queue = uniqueName('seedline-tq');
    const connection = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
    const json = join(tmpdir(), `${uniqueName('tap')}.json`);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: false, autoDelete: false });
      await channel.bindQueue(queue, exchange, '#');
      await seed({ events: dir, exchange, progress: 'off', checkpoint: false });
      // A consumer of the module takes 7 messages before tap looks: those are missing.
      for (let taken = 0; taken < 7; ) {
        const msg = await channel.get(queue, { noAck: true });
        if (msg) taken++;
      }
      const verdict = await tap({ events: dir, exchange, queue, progress: 'off', idleMs: 1_000, graceMs: 100 });
      expect(verdict).toMatchObject({ expected: 250, arrived: 243, missing: 7, duplicates: 0, ok: false });
      const types = Object.values(verdict.byType);
      expect(types.reduce((n, t) => n + t.expected, 0)).toBe(250);
      expect(types.reduce((n, t) => n + t.expected - t.arrived, 0)).toBe(7);
      // Looked at, not taken: the broker requeued them when tap closed.
      await expect.poll(async () => (await channel.checkQueue(queue)).messageCount, { timeout: 10_000 }).toBe(243);

      await writeVerdictJson(json, verdict);
      expect(JSON.parse(await readFile(json, 'utf8'))).toMatchObject({ format: TAP_VERDICT_FORMAT, missing: 7, byType: verdict.byType });
    } finally {
      await connection.close();
      await rm(json, { force: true });
      await deleteExchange(exchange);
      const c = await amqp.connect('amqp://guest:guest@127.0.0.1:5672');
      await (await c.createChannel()).deleteQueue(queue);
      await c.close();
    }
  });
});
