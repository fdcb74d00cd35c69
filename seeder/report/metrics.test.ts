/**
 * `seed --metrics-port`: scraped over HTTP during a real seed run against the local RabbitMQ,
 * the way Prometheus would.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../common/test-support.ts';
import { isSeedlineError } from '../../common/errors.ts';
import { seedCommand } from '../cli.ts';
import { LATENCY_BUCKETS } from './metrics.ts';
import { seed } from '../seed.ts';
import { TestConsumer, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from '../test-helpers.ts';

interface Scrape {
  readonly at: number;
  readonly contentType: string | null;
  readonly text: string;
  /** `name{labels}` → value */
  readonly values: Map<string, number>;
}

/** The exposition format's sample lines, strictly: `name{k="v",…} value`. */
const SAMPLE = /^([a-z_]+)(\{(?:[a-z_]+="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|\+Inf)$/;

function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    values.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return values;
}

const sum = (s: Scrape, prefix: string) => [...s.values].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);

describe('seed --metrics-port', () => {
  let events: string;
  beforeAll(async () => {
    events = await writeEventsDataset(await makeEvents(400)); // chat.message-sent and members.member-registered, alternating
  });
  afterAll(async () => {
    await removeDataset(events);
    process.exitCode = undefined;
  });

  it('serves the live counters, gauges and latency histogram while the run lasts, then stops', async () => {
    const exchange = uniqueName('seedline-metrics');
    const consumer = await TestConsumer.bind(exchange, { pattern: 'chat.#' }); // members.* comes back unroutable
    const scrapes: Scrape[] = [];
    let url = '';
    let running = true;
    let scraping: Promise<void> = Promise.resolve();
    try {
      const run = seed({
        events,
        exchange,
        rate: 100,
        checkpoint: false,
        progress: 'off',
        metrics: {
          port: 0,
          onListening: (u) => {
            url = u;
            scraping = (async () => {
              while (running) {
                const res = await fetch(u).catch(() => null);
                if (res) {
                  const text = await res.text();
                  scrapes.push({ at: performance.now(), contentType: res.headers.get('content-type'), text, values: parse(text) });
                }
                await new Promise((r) => setTimeout(r, 250));
              }
            })();
          },
        },
      });
      const result = await run;
      running = false;
      await scraping;
      expect(result.confirmed).toBe(400);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

      expect(scrapes.length).toBeGreaterThanOrEqual(8); // ~4 s at 100/s, a scrape every 250 ms
      expect(scrapes[0]!.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
      for (const [prev, next] of scrapes.slice(1).map((s, i) => [scrapes[i]!, s] as const)) {
        for (const counter of ['seedline_seed_confirmed_total', 'seedline_seed_returned_total{type="members.member-registered"}']) {
          expect(next.values.get(counter) ?? 0).toBeGreaterThanOrEqual(prev.values.get(counter) ?? 0);
        }
      }
      for (const s of scrapes) {
        const published = sum(s, 'seedline_seed_published_total');
        const confirmed = s.values.get('seedline_seed_confirmed_total')!;
        expect(published).toBeLessThanOrEqual(400);
        expect(confirmed).toBeLessThanOrEqual(published);
        expect(s.values.get('seedline_seed_in_flight')).toBeLessThanOrEqual(published - confirmed);
        // The schedule exists once publishing began (the first scrape may come while connecting).
        if (published > 0) expect(s.values.get('seedline_seed_target_rate')).toBe(100);
        expect(s.values.get('seedline_seed_events')).toBe(400);
        // The histogram counts exactly the confirms, and its buckets are cumulative.
        expect(s.values.get('seedline_seed_confirm_latency_seconds_count')).toBe(confirmed);
        const buckets = [...LATENCY_BUCKETS.map(String), '+Inf'].map((le) => s.values.get(`seedline_seed_confirm_latency_seconds_bucket{le="${le}"}`)!);
        expect(buckets.every((b, i) => i === 0 || b >= buckets[i - 1]!)).toBe(true);
        expect(buckets[buckets.length - 1]).toBe(confirmed);
        expect(s.values.has('seedline_seed_returned_total{type="chat.message-sent"}')).toBe(false);
      }
      const late = scrapes.filter((s) => s.values.get('seedline_seed_confirmed_total')! > 150);
      expect(late.length).toBeGreaterThan(0);
      const last = late[late.length - 1]!;
      expect(last.values.get('seedline_seed_achieved_rate')).toBeGreaterThan(60);
      expect(last.values.get('seedline_seed_achieved_rate')).toBeLessThan(140);
      expect(last.values.get('seedline_seed_published_total{type="chat.message-sent"}')).toBeGreaterThan(70);
      expect(last.values.get('seedline_seed_returned_total{type="members.member-registered"}')).toBeGreaterThan(50);
      expect(last.text).toContain(`seedline_seed_info{run_id="${result.runId}",exchange="${exchange}"`);

      // Over with the run: nothing listens any more.
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      running = false;
      await consumer.close();
      await deleteExchange(exchange);
    }
  });

  it('a port in use is a USAGE error naming --metrics-port, before anything is published', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const exchange = uniqueName('seedline-metrics');
    try {
      const err = await seed({ events, exchange, checkpoint: false, progress: 'off', metrics: { port } }).catch((e: unknown) => e);
      expect(isSeedlineError(err, 'USAGE')).toBe(true);
      expect((err as { context: { option: string } }).context.option).toBe('--metrics-port');
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    } finally {
      await new Promise((r) => blocker.close(r));
      await deleteExchange(exchange).catch(() => undefined);
    }
  });

  it('--metrics-port must be a port number', async () => {
    const err = await runCommand(seedCommand(), ['--events', events, '--metrics-port', 'ninety', '--progress', 'off']).catch((e: unknown) => e);
    expect(isSeedlineError(err, 'USAGE')).toBe(true);
    expect((err as Error).message).toBe("--metrics-port must be a TCP port (0–65535; 0 picks a free one), got 'ninety'");
  });
});
