/**
 * Acceptance: `seedline capacity` against backend-sim on the real local RabbitMQ. Half the
 * events go to chat (consumed at 50/s), half to members (400/s): the backend sustains
 * 2 × 50 = 100 events/s, and chat is the queue that saturates first.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendSim } from './backend-sim.ts';
import { DEFAULT_URL } from '../broker/broker.ts';
import type { CapacityReport } from './capacity.ts';
import { deleteExchange, makeEvents, removeDataset, runSeedline, uniqueName, writeEventsDataset } from '../test-helpers.ts';

describe('seedline capacity against backend-sim', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(2000, ['chat.message-sent', 'members.member-registered']));
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('finds the sustained rate within ±10 % of what the slower queue allows, and names that queue', async () => {
    const exchange = uniqueName('seedline-cap');
    const sim = await BackendSim.start({ url: DEFAULT_URL, exchange, queues: [{ module: 'chat', capacity: 50 }, { module: 'members', capacity: 400 }] });
    const report = join(dir, '..', 'capacity.json');
    try {
      const { code, stdout } = await runSeedline(['capacity', '--events', dir, '--exchange', exchange, '--from', '40', '--to', '1000', '--hold', '5s', '--precision', '0.1', '--report', report]);
      expect(code, stdout).toBe(0);
      const r = JSON.parse(await readFile(report, 'utf8')) as CapacityReport;
      expect(r.sustained, stdout).toBeGreaterThanOrEqual(90);
      expect(r.sustained, stdout).toBeLessThanOrEqual(110);
      expect(r.saturating?.queue).toBe(`${exchange}.chat`);
      expect(r.saturating?.consumedRate).toBeGreaterThan(35); // the broker's ack rate: about 50/s
      expect(r.saturating?.consumedRate).toBeLessThan(65);
      expect(r.publisherLimit).toBeNull();
      // Every verdict carries its slope and spread; the fast queue never fell behind.
      for (const s of r.steps) {
        expect(s.worst?.spread).toBeGreaterThanOrEqual(0);
        expect(s.queues.find((q) => q.queue === `${exchange}.members`)!.growth).toBeLessThanOrEqual(s.limit);
      }
      expect(stdout).toMatch(new RegExp(`saturates\\s+${exchange}\\.chat first`));
      const html = await readFile(join(dir, '..', 'capacity.html'), 'utf8');
      expect(html.match(/<svg id="backlog-chart-\d+"/g)).toHaveLength(2);
      expect(html).toContain('falls-behind');
    } finally {
      await sim.stop({ deleteQueues: true });
      await deleteExchange(exchange);
    }
  }, 240_000);

  it('refuses to judge without a queue to watch, and a hold too short to measure', async () => {
    const exchange = uniqueName('seedline-cap');
    try {
      const none = await runSeedline(['capacity', '--events', dir, '--exchange', exchange, '--hold', '5s']);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain(`no queue to watch: none is bound to exchange '${exchange}'`);
      const short = await runSeedline(['capacity', '--events', dir, '--exchange', exchange, '--hold', '1s']);
      expect(short.code).toBe(2);
      expect(short.stderr).toContain('--hold must be at least 2s');
    } finally {
      await deleteExchange(exchange).catch(() => undefined);
    }
  });
});
