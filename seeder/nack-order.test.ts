import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_URL } from './broker.ts';
import { seed } from './seed.ts';
import { deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from './test-helpers.ts';

const EVENTS = 4_000;
const KEYS = 100;

describe('seed: nacks do not reorder a key (a reject-publish queue that really nacks)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(EVENTS, ['chat.message-sent'], KEYS));
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('every event arrives, each key in stream order, although the broker nacked many', async () => {
    const exchange = uniqueName('seedline-t');
    const connection = await amqp.connect(DEFAULT_URL);
    // Arrivals in order: [key, stream position] of each message's first copy.
    const arrivals: Array<[string, number]> = [];
    const seen = new Set<string>();
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true });
      // Full at 20 ready messages: the broker nacks what does not fit (x-overflow reject-publish).
      const { queue } = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 20, 'x-overflow': 'reject-publish' } });
      await channel.bindQueue(queue, exchange, '#');
      // A consumer slower than the publisher (acks one by one, 5 unacked at most), so the queue fills up.
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

      const result = await seed({ events: dir, exchange, checkpoint: false, progress: 'off', nackRetry: { attempts: 1_000, baseMs: 1, maxMs: 20 } });
      expect(result.confirmed).toBe(EVENTS);
      expect(result.nacked).toBeGreaterThan(0);

      // Wait for a condition: every event has arrived (nothing lost).
      const deadline = Date.now() + 60_000;
      while (seen.size < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen.size).toBe(EVENTS);

      const last = new Map<string, number>();
      const displaced: string[] = [];
      for (const [key, position] of arrivals) {
        if ((last.get(key) ?? -1) > position) displaced.push(`${key}: ${position} after ${last.get(key)}`);
        last.set(key, Math.max(position, last.get(key) ?? -1));
      }
      expect(displaced).toEqual([]);
      // The publisher's own count of nacks matches nothing lost: each nacked event went out again.
      expect(result.retried).toBe(result.nacked);
    } finally {
      await connection.close().catch(() => undefined);
      await deleteExchange(exchange);
    }
  }, 90_000);
});
