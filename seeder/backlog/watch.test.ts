import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../common/exit-codes.ts';
import { BackendSim } from './backend-sim.ts';
import { DEFAULT_URL } from '../broker/broker.ts';
import { freePort } from '../private-broker.ts';
import type { RunReport } from '../report/report.ts';
import { QueueWatch } from './watch.ts';
import { seedWatched } from './watch-seed.ts';
import { deleteExchange, makeEvents, removeDataset, runSeedline, uniqueName, writeEventsDataset } from '../test-helpers.ts';

async function queueExists(name: string): Promise<boolean> {
  const connection = await amqp.connect(DEFAULT_URL);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    return await channel.checkQueue(name).then(
      () => true,
      () => false,
    );
  } finally {
    await connection.close().catch(() => undefined);
  }
}

describe('seed --watch: the backlog of the backend queues', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(1200, ['chat.message-sent', 'members.member-registered']));
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('--max-backlog stops the run with exit code 4 naming the queue that fell behind (management API)', async () => {
    const exchange = uniqueName('seedline-w');
    const sim = await BackendSim.start({ url: DEFAULT_URL, exchange, queues: [{ module: 'chat', capacity: 40 }, { module: 'members', capacity: 2000 }] });
    const report = join(dir, '..', `${exchange}.json`);
    try {
      const r = await runSeedline(['seed', '--events', dir, '--exchange', exchange, '--rate', '400', '--max-backlog', '150', '--no-checkpoint', '--progress', 'off', '--report', report]);
      expect(r.code).toBe(EXIT.BACKLOG_LIMIT);
      expect(r.stderr).toContain(`queue ${exchange}.chat: backlog`);
      expect(r.stderr).toContain('passed --max-backlog 150');
      expect(r.stderr).toMatch(/watch: management API at http:\/\/127\.0\.0\.1:15672/);
      expect(r.stdout).toMatch(/published\s+\d+ of 1,200 events/);
      expect(r.stdout).not.toMatch(/published\s+1,200 of/); // stopped early
      expect(r.stdout).toMatch(new RegExp(`stopped\\s+queue ${exchange}\\.chat`));
      const json = JSON.parse(await readFile(report, 'utf8')) as RunReport;
      expect(json.backlog?.breach?.queue).toBe(`${exchange}.chat`);
      const members = json.backlog?.queues.find((q) => q.queue === `${exchange}.members`);
      expect(members?.peak).toBeLessThan(150); // the fast queue kept up
      expect(json.backlog?.queues.find((q) => q.queue === `${exchange}.chat`)?.samples.length).toBeGreaterThan(0);
      expect(`${r.stdout}${r.stderr}`).not.toContain('guest:guest');
    } finally {
      await sim.stop({ deleteQueues: true });
      await deleteExchange(exchange);
    }
  });

  it('--max-backlog-growth stops the run with exit code 4 once a queue grows faster than the limit over the window', async () => {
    const exchange = uniqueName('seedline-w');
    const long = await writeEventsDataset(await makeEvents(3000, ['chat.message-sent', 'members.member-registered']));
    const sim = await BackendSim.start({ url: DEFAULT_URL, exchange, queues: [{ module: 'chat', capacity: 40 }, { module: 'members', capacity: 2000 }] });
    try {
      // chat gets 150/s and consumes 40/s: its backlog grows ~110/s; members keeps up.
      const r = await runSeedline(['seed', '--events', long, '--exchange', exchange, '--rate', '300', '--max-backlog-growth', '30/s', '--watch-window', '5s', '--no-checkpoint', '--progress', 'off']);
      expect(r.code).toBe(EXIT.BACKLOG_LIMIT);
      expect(r.stderr).toMatch(new RegExp(`queue ${exchange}\\.chat: backlog grew [\\d,]+/s, above --max-backlog-growth 30/s at \\d+\\.\\ds`));
      expect(r.stdout).not.toMatch(/published\s+3,000 of/);
    } finally {
      await sim.stop({ deleteQueues: true });
      await deleteExchange(exchange);
      await removeDataset(long);
    }
  });

  it('without the management API it falls back to passive declares, and --drain reports the catch-up time', async () => {
    const exchange = uniqueName('seedline-w');
    const sim = await BackendSim.start({ url: DEFAULT_URL, exchange, queues: [{ module: 'chat', capacity: 300 }, { module: 'members', capacity: 300 }] });
    const missing = `${exchange}.not-declared`;
    try {
      const r = await runSeedline([
        'seed', '--events', dir, '--exchange', exchange, '--no-checkpoint', '--progress', 'off',
        '--management-url', 'http://127.0.0.1:1', '--watch-queues', `${exchange}.chat,${exchange}.members,${missing}`, '--drain', '60s',
      ]);
      expect(r.code).toBe(EXIT.OK);
      expect(r.stderr).toMatch(/watch: AMQP passive declares \(depth, consumers; no rates\): management API not reachable at http:\/\/127\.0\.0\.1:1/);
      expect(r.stdout).toMatch(/backlog\s+AMQP passive declares/);
      // Unpaced, 600 events each into queues consumed at 300/s: a backlog builds and then drains.
      const chat = new RegExp(`${exchange}\\.chat\\s+0\\s+([\\d,]+)`).exec(r.stdout);
      expect(Number(chat?.[1]?.replace(/,/g, ''))).toBeGreaterThan(0);
      expect(r.stdout).toMatch(/drain\s+the backend caught up \d+\.\ds after the last confirm/);
      expect(await queueExists(missing)).toBe(false); // watched, never declared
    } finally {
      await sim.stop({ deleteQueues: true });
      await deleteExchange(exchange);
    }
  });

  it('takes the node list of a cluster (--url a,b): watches through the first node that answers', async () => {
    const exchange = uniqueName('seedline-w');
    const sim = await BackendSim.start({ url: DEFAULT_URL, exchange, queues: [{ module: 'chat', capacity: 20 }] });
    const dead = `amqp://guest:guest@127.0.0.1:${await freePort()}`;
    const lines: string[] = [];
    const watch = await QueueWatch.start({ url: `${dead},${DEFAULT_URL}`, exchange, queues: [`${exchange}.chat`], intervalMs: 250, log: (l) => lines.push(l) });
    try {
      expect(lines.join('\n')).toContain(`${exchange}.chat`);
    } finally {
      await watch.stop();
      await sim.stop({ deleteQueues: true });
      await deleteExchange(exchange);
    }
  });

  it('serves every watched queue as Prometheus gauges while the run lasts', async () => {
    const exchange = uniqueName('seedline-w');
    const sim = await BackendSim.start({ url: DEFAULT_URL, exchange, queues: [{ module: 'chat', capacity: 20 }, { module: 'members', capacity: 2000 }] });
    const watch = await QueueWatch.start({ url: DEFAULT_URL, exchange, intervalMs: 250 });
    const stop = new AbortController();
    let metricsUrl = '';
    let seen = '';
    try {
      const run = seedWatched({ events: dir, exchange, rate: 400, checkpoint: false, progress: 'off', signal: stop.signal, watch, metrics: { port: 0, onListening: (u) => (metricsUrl = u) } }, watch);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !/seedline_queue_backlog\{queue="[^"]+\.chat"\} ([1-9]\d+)/.test(seen)) {
        await new Promise((r) => setTimeout(r, 100));
        if (metricsUrl) seen = await (await fetch(metricsUrl)).text();
      }
      stop.abort();
      await run.catch(() => undefined);
      expect(seen).toMatch(new RegExp(`seedline_queue_backlog\\{queue="${exchange}\\.chat"\\} [1-9]\\d+`));
      expect(seen).toContain(`seedline_queue_backlog_growth{queue="${exchange}.chat"}`);
      expect(seen).toContain(`seedline_queue_consumers{queue="${exchange}.members"} 1`);
    } finally {
      await watch.stop();
      await sim.stop({ deleteQueues: true });
      await deleteExchange(exchange);
    }
  });
});
