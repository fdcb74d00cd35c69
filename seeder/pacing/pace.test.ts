import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedCommand } from '../cli.ts';
import type { OutgoingMessage } from '../broker/message.ts';
import { Pace } from './pace.ts';
import { readRunReport } from '../report/report.ts';
import { seed } from '../seed.ts';
import { keySelected, parseSelection } from './select.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset, type TestEvent } from '../test-helpers.ts';
import { runCommand } from '../../common/test-support.ts';

const runCli = async (args: string[]): Promise<string> => (await runCommand(seedCommand(), args)).stdout;

describe('seed with pacing, selection and measurement (real RabbitMQ)', () => {
  let events: TestEvent[];
  let dir: string;
  let tmp: string;
  beforeAll(async () => {
    events = await makeEvents(400, ['chat.message-sent', 'members.member-registered'], 40);
    dir = await writeEventsDataset(events, { maxPartBytes: 8 * 1024 });
    tmp = await mkdtemp(join(tmpdir(), 'seedline-pace-'));
  });
  afterAll(async () => {
    await removeDataset(dir);
    await rm(tmp, { recursive: true, force: true });
    process.exitCode = undefined;
  });

  it('--sample keeps whole keys, --types filters, and latency is measured for every confirm', async () => {
    const exchange = uniqueName('seedline-t');
    const consumer = await TestConsumer.bind(exchange);
    try {
      const selection = parseSelection({ sample: '50%', types: 'chat.*' });
      const pace = new Pace({ selection, sentAtHeader: true });
      const result = await seed({ events: dir, exchange, progress: 'off', checkpoint: false, pace });
      const expected = events.filter((e) => e.type === 'chat.message-sent' && keySelected(e.key, selection));
      expect(expected.length).toBeGreaterThan(50);
      expect(expected.length).toBeLessThan(200);
      expect(result.confirmed).toBe(expected.length);
      const got = await consumer.waitFor(expected.length);
      expect(new Set(got.map((m) => m.properties.messageId))).toEqual(new Set(expected.map((e) => e.id)));
      // The sent-at header is the intended send time: not in the future, not long ago.
      const sentAt = Number(got[0]!.properties.headers!['sent-at']);
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(0);
      expect(Date.now() - sentAt).toBeLessThan(60_000);
      expect(pace.meter.overall.count).toBe(expected.length);
      expect(pace.meter.confirmed).toBe(expected.length);
      expect(pace.meter.inFlight).toBe(0);
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });

  it('--limit stops early; a control command changes the rate while running', async () => {
    const exchange = uniqueName('seedline-t');
    try {
      // Too slow for the test (2.4 s at 50/s): speed it up to 1000/s once 10 events went out
      // (a condition, not a timer: under load a timer fired late and the run took too long).
      const pace = new (class extends Pace {
        override sent(message: OutgoingMessage): number {
          const due = super.sent(message);
          if (this.meter.published === 10) this.control({ kind: 'rate', rate: 1000 });
          return due;
        }
      })({ rate: 50, selection: parseSelection({ limit: '120' }) });
      const started = performance.now();
      const result = await seed({ events: dir, exchange, progress: 'off', checkpoint: false, pace });
      const elapsed = performance.now() - started;
      expect(result.published).toBe(120);
      expect(result.targetRate).toBe(1000);
      expect(pace.pacer?.label).toBe('1000 events/s');
      // At 50/s the 120 events take 2.38 s by the schedule; 10 at 50/s and 110 at 1000/s, 0.29 s.
      expect(elapsed).toBeGreaterThan(180);
      expect(elapsed).toBeLessThan(2_380);
    } finally {
      await deleteExchange(exchange);
    }
  });

  it('CLI: --dry-run publishes nothing and prints the counts; --report writes the run report', async () => {
    const dry = await runCli(['--events', dir, '--dry-run', '--rate', '100', '--types', 'members.*', '--progress', 'off']);
    expect(dry).toContain('nothing was published');
    expect(dry).toMatch(/200 selected of 400/);
    expect(dry).toMatch(/duration\s+2\.0s at 100 events\/s/);
    expect(process.exitCode).toBe(0);

    const exchange = uniqueName('seedline-t');
    const report = join(tmp, 'run.json');
    const consumer = await TestConsumer.bind(exchange); // a run with nothing routed fails
    try {
      await runCli(['--events', dir, '--exchange', exchange, '--rate', '400', '--limit', '300', '--report', report, '--no-checkpoint', '--progress', 'off']);
      const r = await readRunReport(report);
      expect(r.counts).toEqual({ published: 300, confirmed: 300, nacked: 0 });
      expect(r.result?.confirmed).toBe(300);
      expect(r.latency.count).toBe(300);
      expect(r.schedule).toBe('400 events/s');
      expect(r.seconds.length).toBeGreaterThanOrEqual(1);
      expect(r.seconds.reduce((n, s) => n + s.published, 0)).toBe(300);
      expect(r.seconds[0]!.target).toBe(400);
      expect(JSON.parse(await readFile(report, 'utf8')).format).toBe('seedline-run-report/1');
    } finally {
      await consumer.close();
      await deleteExchange(exchange);
    }
  });
});
