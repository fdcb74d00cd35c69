import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../broker/message.ts';
import { Pace } from './pace.ts';
import { seed } from '../seed.ts';
import { parseSelection } from './select.ts';
import { formatSummary } from '../summary.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from '../test-helpers.ts';

/** Arrival times (ms, this process's clock) of every message a consumer takes. */
async function timedConsumer(exchange: string): Promise<{ consumer: TestConsumer; arrivals: number[] }> {
  const consumer = await TestConsumer.bind(exchange, { consume: false });
  const arrivals: number[] = [];
  const received = consumer.received;
  const push = received.push.bind(received);
  received.push = (...messages) => {
    for (let i = 0; i < messages.length; i++) arrivals.push(performance.now());
    return push(...messages);
  };
  await consumer.startConsuming();
  return { consumer, arrivals };
}

describe('seed pacing starts at the first selected event (arrivals timed by a consumer)', () => {
  const SKIPPED = 60_000;
  let dir: string;
  let fromIso: string;
  beforeAll(async () => {
    const events = await makeEvents(SKIPPED + 400, ['chat.message-sent'], 50);
    fromIso = new Date(events[SKIPPED]!.occurred_at / 1000).toISOString();
    dir = await writeEventsDataset(events);
  }, 60_000);
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('--rate 1000 --from <after 60,000 events>: no burst of what reading past them "owed"', async () => {
    const exchange = uniqueName('seedline-t');
    const { consumer, arrivals } = await timedConsumer(exchange);
    try {
      const pace = new Pace({ rate: 1000, selection: parseSelection({ from: fromIso, limit: '300' }) });
      const result = await seed({ events: dir, exchange, pace, checkpoint: false, progress: 'off' });
      expect(result.confirmed).toBe(300);
      await consumer.waitFor(300);
      expect(arrivals.length).toBe(300);
      // The schedule allows event 0 at once and one per ms after it: 51 in the first 50 ms.
      // A few more may bunch up in delivery on a busy machine; skipping 60,000 events took
      // far longer than that, and the old clock sent all of it at once.
      const first = arrivals[0]!;
      const early = arrivals.filter((t) => t - first <= 50).length;
      expect(early).toBeLessThanOrEqual(51 + 25);
      expect(pace.pacer!.stalls).toBe(0);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });

  it("a rate from the control file (an unpaced run) is the run's target rate, not 'unlimited'", async () => {
    const exchange = uniqueName('seedline-t');
    try {
      // The control file is changed while the run publishes (here: once it sent its first event).
      const pace = new (class extends Pace {
        override sent(message: OutgoingMessage): number {
          const due = super.sent(message);
          if (this.meter.published === 1) expect(this.control({ kind: 'rate', rate: 2000 })).toMatch(/rate set/);
          return due;
        }
      })({ selection: parseSelection({ from: fromIso, limit: '50' }) });
      const result = await seed({ events: dir, exchange, pace, checkpoint: false, progress: 'off' });
      expect(result.targetRate).toBe(2000);
      expect(formatSummary(result)).toContain('(target 2,000/s)');
    } finally {
      await deleteExchange(exchange);
    }
  });
});
