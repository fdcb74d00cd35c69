import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeedlineError } from '../common/errors.ts';
import { readCheckpoint } from './checkpoint.ts';
import { Pace } from './pacing/pace.ts';
import { parseSelection } from './pacing/select.ts';
import { seed } from './seed.ts';
import { SeedFailure } from './summary.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset, type TestEvent } from './test-helpers.ts';

/** Runs `body` with a fresh exchange name that is deleted afterwards. */
async function withExchange<T>(body: (exchange: string) => Promise<T>): Promise<T> {
  const exchange = uniqueName('seedline-t');
  try {
    return await body(exchange);
  } finally {
    await deleteExchange(exchange);
  }
}

describe('seed against the local RabbitMQ', () => {
  let events: TestEvent[];
  let dir: string;

  beforeAll(async () => {
    events = await makeEvents(300);
    // Small parts, so the run crosses several part files.
    dir = await writeEventsDataset(events, { maxPartBytes: 8 * 1024 });
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('delivers every event exactly once, in order per key, with its properties and headers', async () => {
    await withExchange(async (exchange) => {
      const consumer = await TestConsumer.bind(exchange);
      try {
        const result = await seed({ events: dir, exchange, runId: 'run-t1', progress: 'off', maxInFlight: 50 });
        expect(result).toMatchObject({ total: 300, published: 300, confirmed: 300, nacked: 0, returnedTotal: 0, interrupted: false });
        const got = await consumer.waitFor(300);
        expect(got).toHaveLength(300);
        expect(new Set(got.map((m) => m.properties.messageId)).size).toBe(300);

        const byId = new Map(events.map((e) => [e.id, e]));
        for (const msg of got) {
          const e = byId.get(msg.properties.messageId as string)!;
          expect(e).toBeDefined();
          expect(msg.fields.routingKey).toBe(e.type);
          expect(msg.fields.exchange).toBe(exchange);
          expect(msg.properties).toMatchObject({
            type: e.type,
            contentType: 'application/x-protobuf',
            appId: 'seedline',
            deliveryMode: 2,
            timestamp: Math.floor(e.occurred_at / 1e6),
          });
          expect(msg.properties.headers).toEqual({
            key: e.key,
            'source-table': 'Messages',
            'source-key': e.source.primary_key,
            'occurred-at': String(e.occurred_at),
            'payload-type': 'seedline.events.Source',
            'run-id': 'run-t1',
          });
          expect(Buffer.compare(msg.content, Buffer.from(e.payload))).toBe(0);
        }
        // Per key, events arrive in stream order.
        const lastIndex = new Map<string, number>();
        for (const msg of got) {
          const index = events.indexOf(byId.get(msg.properties.messageId as string)!);
          const key = msg.properties.headers!.key as string;
          expect(index).toBeGreaterThan(lastIndex.get(key) ?? -1);
          lastIndex.set(key, index);
        }
      } finally {
        await consumer.close();
      }
    });
  });

  it('keeps delivering everything with a window of one unconfirmed message', async () => {
    await withExchange(async (exchange) => {
      const consumer = await TestConsumer.bind(exchange);
      try {
        const result = await seed({ events: dir, exchange, progress: 'off', maxInFlight: 1 });
        expect(result.confirmed).toBe(300);
        expect(await consumer.waitFor(300)).toHaveLength(300);
      } finally {
        await consumer.close();
      }
    });
  });

  it('counts unroutable events (no queue bound) as returned, by type', async () => {
    await withExchange(async (exchange) => {
      const result = await seed({ events: dir, exchange, progress: 'off' });
      expect(result.confirmed).toBe(300);
      expect(result.returnedTotal).toBe(300);
      expect(result.returned).toEqual({ 'chat.message-sent': 150, 'members.member-registered': 150 });
    });
  });

  it('counts only the types no queue takes when some are bound', async () => {
    await withExchange(async (exchange) => {
      const consumer = await TestConsumer.bind(exchange, { pattern: 'chat.#' });
      try {
        const result = await seed({ events: dir, exchange, progress: 'off' });
        expect(result.returned).toEqual({ 'members.member-registered': 150 });
        expect(await consumer.waitFor(150)).toHaveLength(150);
      } finally {
        await consumer.close();
      }
    });
  });

  it('--fail-on-unroutable turns returned events into PUBLISH_FAILED', async () => {
    await withExchange(async (exchange) => {
      const err = await seed({ events: dir, exchange, progress: 'off', failOnUnroutable: true }).catch((e: unknown) => e);
      expect(isSeedlineError(err, 'PUBLISH_FAILED')).toBe(true);
      expect((err as SeedFailure).result.returnedTotal).toBe(300);
    });
  });

  it('paces with --rate: 200 events at 400/s take at least ~0.45 s', async () => {
    const few = await writeEventsDataset(events.slice(0, 200));
    try {
      await withExchange(async (exchange) => {
        const started = performance.now();
        const result = await seed({ events: few, exchange, progress: 'off', rate: 400 });
        const elapsed = performance.now() - started;
        expect(result.confirmed).toBe(200);
        expect(result.targetRate).toBe(400);
        expect(elapsed).toBeGreaterThanOrEqual(450);
        expect(result.elapsedMs).toBeGreaterThanOrEqual(450);
      });
    } finally {
      await removeDataset(few);
    }
  });

  it('stops on the abort signal, waits for the outstanding confirms and reports INTERRUPTED', async () => {
    await withExchange(async (exchange) => {
      const consumer = await TestConsumer.bind(exchange);
      try {
        const controller = new AbortController();
        // Abort once the first event has arrived: a fixed delay fails on a slow machine.
        void consumer.waitFor(1, 20_000).then(() => controller.abort());
        const err = await seed({ events: dir, exchange, progress: 'off', rate: 400, signal: controller.signal }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SeedFailure);
        const { result, code } = err as SeedFailure;
        expect(code).toBe('INTERRUPTED');
        expect(result.interrupted).toBe(true);
        expect(result.published).toBeGreaterThan(0);
        expect(result.published).toBeLessThan(300);
        expect(result.confirmed).toBe(result.published);
        const got = await consumer.waitFor(result.published, 5_000);
        expect(got).toHaveLength(result.published);
      } finally {
        await consumer.close();
      }
    });
  });

  it('retries nacks with backoff, then fails with PUBLISH_FAILED when the broker keeps rejecting', async () => {
    await withExchange(async (exchange) => {
      // A queue that holds one message and rejects (nacks) publishes beyond it.
      const consumer = await TestConsumer.bind(exchange, {
        consume: false,
        queueArguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
      });
      try {
        // --key-order strict, so what goes out does not depend on when the first nack arrives.
        const err = await seed({ events: dir, exchange, progress: 'off', checkpoint: false, keyOrder: 'strict', nackRetry: { attempts: 2, baseMs: 100, maxMs: 200 } }).catch((e: unknown) => e);
        // The message in the assertion says what arrived instead, should this ever fail.
        expect(isSeedlineError(err, 'PUBLISH_FAILED'), `${(err as Error)?.message ?? JSON.stringify(err)}`).toBe(true);
        const { result } = err as SeedFailure;
        // Event 0 fills the queue; events 1-5 (one of each of the 5 keys) are nacked; every later
        // event waits behind the nacked one of its key (order per key), so it is never sent.
        expect(result.published).toBe(6);
        expect(result.confirmed).toBe(1);
        // An event was nacked, retried twice, nacked again: the run stops there.
        expect(result.nacked).toBeGreaterThanOrEqual(5 + 2);
        expect(result.retried).toBeGreaterThanOrEqual(2);
        expect(result.position).toBe(1);
        expect(result.unconfirmed).toBe(5);
      } finally {
        await consumer.close();
      }
    });
  });

  it('a nacked event published again after a backoff is delivered: nothing lost', async () => {
    await withExchange(async (exchange) => {
      // Holds 10 messages and nacks the rest until a consumer starts draining it.
      const consumer = await TestConsumer.bind(exchange, {
        consume: false,
        queueArguments: { 'x-max-length': 10, 'x-overflow': 'reject-publish' },
      });
      const few = await writeEventsDataset(events.slice(0, 30));
      // Drain only once the broker has nacked 20 (a fixed delay raced the seed's own start-up
      // on a loaded machine and sometimes drained before the queue was full).
      const pace = new Pace();
      const drainAfterNacks = setInterval(() => {
        if (pace.meter.nacked < 20) return;
        clearInterval(drainAfterNacks);
        void consumer.startConsuming();
      }, 10);
      try {
        const result = await seed({ events: few, exchange, progress: 'off', checkpoint: false, pace, nackRetry: { attempts: 40, baseMs: 100, maxMs: 200 } });
        expect(result.confirmed).toBe(30);
        expect(result.nacked).toBeGreaterThanOrEqual(20);
        expect(result.retried).toBeGreaterThanOrEqual(20);
        const got = await consumer.waitFor(30);
        expect(new Set(got.map((m) => m.properties.messageId)).size).toBe(30);
      } finally {
        clearInterval(drainAfterNacks);
        await consumer.close();
        await removeDataset(few);
      }
    });
  });

  it('--limit then --resume sends every event once: the checkpoint stops at the limit, not at the end of the batch read', async () => {
    await withExchange(async (exchange) => {
      const consumer = await TestConsumer.bind(exchange);
      const checkpoint = join(dir, `.limit-${exchange}.json`);
      try {
        // 100 of the 300 events; reading goes by whole batches, so events past the 100th were read, not sent.
        const first = await seed({ events: dir, exchange, progress: 'off', checkpoint, pace: new Pace({ selection: parseSelection({ limit: '100' }) }) });
        expect(first.confirmed).toBe(100);
        expect((await readCheckpoint(checkpoint))?.position).toBe(100);
        const rest = await seed({ events: dir, exchange, progress: 'off', checkpoint, resume: true });
        expect(rest.confirmed).toBe(200);
        const got = await consumer.waitFor(300);
        expect(new Set(got.map((m) => m.properties.messageId))).toEqual(new Set(events.map((e) => e.id)));
      } finally {
        await consumer.close();
        await rm(checkpoint, { force: true });
      }
    });
  });

  it('publishes JSON bodies when asked', async () => {
    await withExchange(async (exchange) => {
      const consumer = await TestConsumer.bind(exchange);
      try {
        await seed({ events: dir, exchange, progress: 'off', contentType: 'json' });
        const got = await consumer.waitFor(300);
        expect(got).toHaveLength(300);
        const first = got.find((m) => m.properties.messageId === events[7]!.id)!;
        expect(first.properties.contentType).toBe('application/json');
        expect(JSON.parse(first.content.toString('utf8'))).toEqual({ table: 'Seq', primary_key: '7' });
      } finally {
        await consumer.close();
      }
    });
  });
});
