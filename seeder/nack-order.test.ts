import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_URL } from './broker/broker.ts';
import { seed, type SeedOptions } from './seed.ts';
import type { SeedResult } from './summary.ts';
import { deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from './test-helpers.ts';

const EVENTS = 4_000;
const KEYS = 100;

/** Events that arrived before an earlier event of their key (measured at the consumer, first copies). */
function overtakers(arrivals: ReadonlyArray<readonly [string, number]>): number {
  const laterMin = new Map<string, number>();
  let n = 0;
  for (let i = arrivals.length - 1; i >= 0; i--) {
    const [key, position] = arrivals[i]!;
    if ((laterMin.get(key) ?? Number.POSITIVE_INFINITY) < position) n++;
    laterMin.set(key, Math.min(position, laterMin.get(key) ?? Number.POSITIVE_INFINITY));
  }
  return n;
}

describe('seed: nacks and order per key (a reject-publish queue that really nacks)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(EVENTS, ['chat.message-sent'], KEYS));
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  /** Seeds into a queue of 20 that nacks what does not fit, drained by a slower consumer; returns the result and the arrivals. */
  async function seedIntoFullQueue(options: Partial<SeedOptions>): Promise<{ result: SeedResult; arrivals: Array<[string, number]> }> {
    const exchange = uniqueName('seedline-t');
    const connection = await amqp.connect(DEFAULT_URL);
    const arrivals: Array<[string, number]> = [];
    const seen = new Set<string>();
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 20, 'x-overflow': 'reject-publish' } });
      await channel.bindQueue(queue, exchange, '#');
      // Slower than the publisher (acks one by one, 5 unacked at most), so the queue fills up.
      await channel.prefetch(5);
      await channel.consume(queue, (msg) => {
        if (!msg) return;
        const id = String(msg.properties.messageId);
        if (!seen.has(id)) {
          seen.add(id);
          arrivals.push([String(msg.properties.headers!.key), Number(id.slice(-12))]);
        }
        channel.ack(msg);
      });
      const result = await seed({ events: dir, exchange, checkpoint: false, progress: 'off', nackRetry: { attempts: 1_000, baseMs: 1, maxMs: 20 }, ...options });
      expect(result.confirmed).toBe(EVENTS);
      expect(result.nacked).toBeGreaterThan(0);
      expect(result.retried).toBe(result.nacked);
      // Nothing lost: wait for the condition (every event arrived), not a clock.
      const deadline = Date.now() + 60_000;
      while (seen.size < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen.size).toBe(EVENTS);
      return { result, arrivals };
    } finally {
      await connection.close().catch(() => undefined);
      await deleteExchange(exchange);
    }
  }

  it('--key-order strict: every event arrives and no key is reordered, although the broker nacked many', async () => {
    const { result, arrivals } = await seedIntoFullQueue({ keyOrder: 'strict' });
    expect(overtakers(arrivals)).toBe(0);
    expect(result.overtaken).toBe(0);
  }, 90_000);

  it('default (adaptive): key order from the first nack on; whatever overtook an earlier event of its key is counted', async () => {
    const { result, arrivals } = await seedIntoFullQueue({});
    // Only events sent before the first nack can overtake: at most the window, and the run says how many.
    expect(overtakers(arrivals)).toBeLessThanOrEqual(result.overtaken);
    expect(result.overtaken).toBeLessThanOrEqual(1_000);
  }, 90_000);
});
