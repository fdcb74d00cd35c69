/**
 * Delivery through a broker restart, on a private RabbitMQ node of the test's own (the shared
 * one on 5672 is used by other test files in parallel and must not be restarted).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from './checkpoint.ts';
import type { OutgoingMessage } from './broker/message.ts';
import { Pace } from './pacing/pace.ts';
import { PrivateBroker } from './private-broker.ts';
import { seed } from './seed.ts';
import { SeedFailure } from './summary.ts';
import { drainQueue, duplicatesOf, makeEvents, removeDataset, uniqueName, writeEventsDataset, type TestEvent } from './test-helpers.ts';

const FAST_RECONNECT = { attempts: 60, baseMs: 200, maxMs: 1_000, withinMs: 60_000 };

/**
 * A pace at `rate` that calls `fault` once, when the run sends its `nth` event: the fault hits
 * mid-run whatever the machine's load (a timer started before seed() could fire before the run
 * connected, or after it ended).
 */
function faultAt(nth: number, rate: number, fault: () => Promise<void>): { pace: Pace; done: () => Promise<void> } {
  let running: Promise<void> | null = null;
  const pace = new (class extends Pace {
    override sent(message: OutgoingMessage): number {
      const due = super.sent(message);
      if (this.meter.published === nth) running = fault();
      return due;
    }
  })({ rate });
  return {
    pace,
    done: async () => {
      expect(running, `the run never sent its event ${nth}`).not.toBeNull();
      await running;
    },
  };
}

/** Each key's events arrived (first copies) in stream order; `positionOf` maps an id to its index. */
function displacedPerKey(ids: readonly string[], events: readonly TestEvent[]): string[] {
  const byId = new Map(events.map((e, i) => [e.id, { key: e.key, position: i }]));
  const last = new Map<string, number>();
  const seen = new Set<string>();
  const displaced: string[] = [];
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const { key, position } = byId.get(id)!;
    if ((last.get(key) ?? -1) > position) displaced.push(`${key}: ${position} after ${last.get(key)}`);
    last.set(key, Math.max(position, last.get(key) ?? -1));
  }
  return displaced;
}

describe.skipIf(!PrivateBroker.available())('seed through a broker restart (private RabbitMQ node)', () => {
  let broker: PrivateBroker;
  let events: TestEvent[];
  let dir: string;
  let work: string;

  beforeAll(async () => {
    [broker, events, work] = await Promise.all([PrivateBroker.start(), makeEvents(3_000), mkdtemp(join(tmpdir(), 'seedline-reconnect-'))]);
    dir = await writeEventsDataset(events, { maxPartBytes: 64 * 1024 });
  }, 90_000);
  afterAll(async () => {
    await broker?.dispose();
    if (dir) await removeDataset(dir);
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  /** A durable exchange and a durable queue bound to everything: they survive the restart. */
  async function declareDurable(): Promise<{ exchange: string; queue: string }> {
    const exchange = uniqueName('seedline-t');
    const queue = uniqueName('seedline-t-q');
    const connection = await amqp.connect(broker.url);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: true });
      await channel.bindQueue(queue, exchange, '#');
    } finally {
      await connection.close();
    }
    return { exchange, queue };
  }

  it('reconnects after RabbitMQ restarts mid-run and delivers every event; duplicates only from the window', async () => {
    const { exchange, queue } = await declareDurable();
    const checkpoint = join(work, 'restart.json');
    const restart = faultAt(1_000, 1_500, async () => {
      await broker.stop('SIGTERM');
      await broker.boot();
    });
    const result = await seed({ events: dir, url: broker.url, exchange, pace: restart.pace, maxInFlight: 100, checkpoint, progress: 'off', reconnect: FAST_RECONNECT });
    await restart.done();

    expect(result.reconnects).toBeGreaterThanOrEqual(1);
    expect(result.confirmed).toBe(3_000);
    expect(result.position).toBe(3_000);
    expect(result.republished).toBeLessThanOrEqual(100 * result.reconnects);
    expect(result.pauses.some((p) => p.kind === 'reconnecting' && p.durationMs > 500)).toBe(true);
    expect(result.reconnectingMs).toBeGreaterThan(500);
    expect((await readCheckpoint(checkpoint))?.complete).toBe(true);

    const ids = await drainQueue(broker.url, queue, 3_000);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    expect(duplicatesOf(ids)).toBeLessThanOrEqual(result.republished);
    expect(displacedPerKey(ids, events)).toEqual([]);
  }, 90_000);

  it('gives up after the bounded attempts while the broker is down, and --resume then delivers the rest', async () => {
    const { exchange, queue } = await declareDurable();
    const checkpoint = join(work, 'down.json');
    const crash = faultAt(900, 1_500, () => broker.stop('SIGKILL'));
    const err = await seed({
      events: dir,
      url: broker.url,
      exchange,
      pace: crash.pace,
      maxInFlight: 100,
      checkpoint,
      progress: 'off',
      reconnect: { attempts: 3, baseMs: 100, maxMs: 200, withinMs: 5_000 },
    }).catch((e: unknown) => e);
    await crash.done();
    expect(err).toBeInstanceOf(SeedFailure);
    const failed = err as SeedFailure;
    expect(failed.code).toBe('BROKER_CONNECT');
    expect(failed.result.position).toBeGreaterThan(0);
    expect(failed.result.position).toBeLessThan(3_000);
    const saved = await readCheckpoint(checkpoint);
    expect(saved?.position).toBe(failed.result.position);
    expect(saved?.complete).toBe(false);

    await broker.boot();
    const resumed = await seed({ events: dir, url: broker.url, exchange, maxInFlight: 100, checkpoint, resume: true, progress: 'off' });
    expect(resumed.startPosition).toBe(failed.result.position);
    expect(resumed.runId).toBe(failed.result.runId);
    expect(resumed.confirmed).toBe(3_000 - failed.result.position);

    // A crash of the broker (SIGKILL) may lose what it had not confirmed; resume republished it.
    const ids = await drainQueue(broker.url, queue, 3_000);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    expect(duplicatesOf(ids)).toBeLessThanOrEqual(100);
    expect(displacedPerKey(ids, events)).toEqual([]);
  }, 90_000);
});
