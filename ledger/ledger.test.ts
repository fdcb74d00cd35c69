import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../common/exit-codes.ts';
import { runCommand } from '../common/test-support.ts';
import { decodeEvents, eventStreams, readManifest } from '../recordfile/index.ts';
import { decodeEnvelope, type SeedEvent } from '../seeder/broker/envelope.ts';
import { transform } from '../transformer/transform.ts';
import { seedCommand } from '../seeder/cli.ts';
import { tapCommand } from '../seeder/tap/tap-cli.ts';
import { deleteExchange, uniqueName } from '../seeder/test-helpers.ts';
import type { Balance } from './balance.ts';
import { runLedger, type LedgerResult } from './ledger.ts';
import { ledgerCommand } from './ledger-cli.ts';
import { traceRow } from './trace.ts';
import { fixturePipeline, type FixturePipeline } from './test-support.ts';

const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

function find(r: LedgerResult, stage: Balance['stage'], subject: string): Balance {
  const b = r.balances.find((x) => x.stage === stage && x.subject === subject);
  if (!b) throw new Error(`no ${stage} balance for ${subject}: ${r.balances.map((x) => `${x.stage}/${x.subject}`).join(', ')}`);
  return b;
}
const term = (b: Balance, label: string) => b.terms.find((t) => t.label.includes(label))?.count ?? 0;

describe('seedline ledger on the tiny fixture', () => {
  let p: FixturePipeline;
  beforeAll(async () => {
    p = await fixturePipeline();
  }, 120_000);
  afterAll(async () => {
    await p?.dispose();
    process.exitCode = undefined;
  });

  it('closes on the fixture, and its figures are the fixture ground truth', async () => {
    const r = await runLedger({ dump: p.dump, events: p.events });
    expect(r.unaccounted).toEqual([]);
    expect(r.balanced).toBe(true);
    for (const [table, rows] of Object.entries(p.summary.tables)) expect(find(r, 'extract', table).total.count, table).toBe(rows);
    // Every row a module read is an event, a reject or a drop; the rejected rows are those the reject files name.
    const chat = find(r, 'transform', 'chat ← Messages');
    expect(chat.total.count).toBe(p.summary.tables['Messages']);
    expect(term(chat, 'rejected: null-body')).toBe(p.summary.dirty['Messages']!['bodyNull']);
    expect(term(chat, 'rejected: sender-missing')).toBe(p.summary.dirty['Messages']!['senderMissing']);
    expect(term(chat, 'became events')).toBe(p.transform.eventsByType['chat.message-sent']);
    expect(find(r, 'transform', 'LoginHistory').terms).toEqual([{ label: expect.stringContaining('read by no module'), count: p.summary.tables['LoginHistory'], kind: 'loss' }]);
    expect(r.totals.events).toBe(p.transform.events);
    expect(r.totals.rowsToEvents + r.totals.rowsRejected + r.totals.rowsDropped + p.summary.tables['LoginHistory']!).toBe(r.totals.rowsExtracted);

    const cli = await runCommand(ledgerCommand(), ['--dump', p.dump, '--events', p.events]);
    expect(cli.code).toBe(EXIT.OK);
    expect(cli.stdout).toMatch(/ledger: balanced — [\d,]+ rows extracted/);
    expect(cli.stdout).toContain('nothing unaccounted for');
    const json = await runCommand(ledgerCommand(), ['--dump', p.dump, '--events', p.events, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ balanced: true, unaccounted: [], totals: { events: p.transform.events } });
  });

  it('the transform records the same row outcomes on worker threads as on the main thread', async () => {
    const out = join(p.dir, 'events-workers');
    await transform({ dump: p.dump, out, progress: 'off', workers: 2 });
    const info = (m: Awaited<ReturnType<typeof readManifest>>) => eventStreams(m, out).map((s) => s.entry.info!['rowsByModule']);
    expect(info(await readManifest(out))).toEqual(info(await readManifest(p.events)));
    expect((await runLedger({ dump: p.dump, events: out })).balanced).toBe(true);
  }, 60_000);

  it('flags a deleted dump part at the extract stage and a deleted events part at the events stage, with their counts', async () => {
    const copy = await p.copy();
    const dump = await readManifest(copy.dump);
    const messagesPart = dump.streams['Messages']!.parts[0]!;
    await rm(join(copy.dump, messagesPart.file));
    const events = await readManifest(copy.events);
    // A part of one module's stream (the one with most parts: the fixture's small parts give it several).
    const stream = eventStreams(events, copy.events).reduce((a, b) => (b.entry.parts.length > a.entry.parts.length ? b : a));
    expect(stream.entry.parts.length).toBeGreaterThan(1);
    const eventsPart = stream.entry.parts[1]!;
    await rm(join(copy.events, eventsPart.file));

    const r = await runLedger({ dump: copy.dump, events: copy.events });
    expect(r.balanced).toBe(false);
    expect(r.unaccounted).toContainEqual({ stage: 'extract', subject: 'Messages', label: `${messagesPart.file} is missing`, count: messagesPart.records });
    expect(r.unaccounted).toContainEqual({ stage: 'events', subject: `${stream.name} stream`, label: `${eventsPart.file} is missing`, count: eventsPart.records });
    // Per type, the events of the missing part are the ones not read back.
    const perType = r.unaccounted.filter((u) => u.stage === 'events' && !u.subject.endsWith(' stream'));
    expect(perType.reduce((n, u) => n + u.count, 0)).toBe(eventsPart.records);

    const cli = await runCommand(ledgerCommand(), ['--dump', copy.dump, '--events', copy.events]);
    expect(cli.code).toBe(EXIT.LEDGER_UNBALANCED);
    expect(cli.stdout).toContain(`extract Messages: ${messagesPart.records} ${messagesPart.file} is missing`);
    expect(cli.stdout).toContain('ledger: NOT balanced');
  });

  it('flags a part of one module\'s stream whose bytes changed (same size) as damaged, with its events, and reads the other streams', async () => {
    const copy = await p.copy();
    const streams = eventStreams(await readManifest(copy.events), copy.events);
    const stream = streams.find((s) => s.module === 'members')!;
    const part = stream.entry.parts[0]!;
    const bytes = await readFile(join(copy.events, part.file));
    bytes[bytes.length - 20]! ^= 0xff;
    await writeFile(join(copy.events, part.file), bytes);

    const r = await runLedger({ dump: copy.dump, events: copy.events });
    expect(r.unaccounted).toContainEqual({ stage: 'events', subject: 'damaged parts', label: expect.stringContaining(`${part.file} is damaged`), count: part.records });
    const perType = r.unaccounted.filter((u) => u.stage === 'events' && u.subject !== 'damaged parts');
    expect(perType.reduce((n, u) => n + u.count, 0)).toBe(part.records);
    expect(perType.every((u) => u.subject.startsWith('members.'))).toBe(true);
  });

  it('reads a data set of the older single-stream layout (one `events` stream with every module\'s figures); trace finds its events', async () => {
    const copy = await p.copy();
    const manifest = await readManifest(copy.events);
    const chat = manifest.streams['events.chat']!;
    const info = chat.info!;
    // The older layout: one stream `events`, rejects keyed by module, the modules in producer.source.
    const older = { ...chat, info: { ...info, rejects: { chat: info['rejects'] } } };
    const producer = { ...manifest.producer, source: { ...manifest.producer.source, modules: ['chat'] } };
    await writeFile(join(copy.events, 'manifest.json'), JSON.stringify({ ...manifest, producer, streams: { events: older } }));

    const r = await runLedger({ dump: copy.dump, events: copy.events });
    expect(r.unaccounted).toEqual([]);
    expect(r.totals.events).toBe(chat.records);
    expect(term(find(r, 'transform', 'chat ← Messages'), 'became events')).toBe(p.transform.eventsByType['chat.message-sent']);
    expect(find(r, 'events', 'events stream').terms[0]!.count).toBe(chat.records);
    expect(find(r, 'transform', 'Members').terms).toEqual([{ label: expect.stringContaining('read by no module the transform ran (chat)'), count: p.summary.tables['Members'], kind: 'loss' }]);

    const sent = await firstEvent(copy.events, 'chat.message-sent');
    const t = await traceRow({ dump: copy.dump, events: copy.events }, 'Messages', sent.sourcePrimaryKey);
    expect(t.events.map((e) => e.id)).toContain(sent.id);
    expect(t.events.every((e) => e.stream === 'events')).toBe(true);
  });

  describe('with a seed run report and a tap verdict (real RabbitMQ)', () => {
    let connection: amqp.ChannelModel;
    let channel: amqp.Channel;
    const exchanges: string[] = [];
    beforeAll(async () => {
      connection = await amqp.connect(AMQP_URL);
      channel = await connection.createChannel();
    });
    afterAll(async () => {
      await connection?.close();
      for (const e of exchanges) await deleteExchange(e);
    });

    /** An exchange with a fresh queue bound to the given patterns; deleted after the tests. */
    async function topology(patterns: readonly string[]): Promise<{ exchange: string; queue: string }> {
      const exchange = uniqueName('seedline-ledger');
      const queue = uniqueName('seedline-ledger-q');
      exchanges.push(exchange);
      await channel.assertExchange(exchange, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: false, autoDelete: false, arguments: { 'x-expires': 120_000 } });
      for (const pattern of patterns) await channel.bindQueue(queue, exchange, pattern);
      return { exchange, queue };
    }

    async function seedWithReport(exchange: string, ...extra: string[]): Promise<string> {
      const report = join(p.dir, `${uniqueName('run')}.json`);
      const out = await runCommand(seedCommand(), ['--events', p.events, '--exchange', exchange, '--report', report, '--no-checkpoint', '--progress', 'off', ...extra]);
      expect(out.code).toBe(0);
      return report;
    }

    it('a seed stopped by --limit: the rest is flagged "not selected: seed --limit" per type, and the ledger still closes', async () => {
      const { exchange } = await topology(['#']);
      const run = await seedWithReport(exchange, '--limit', '100');
      const r = await runLedger({ dump: p.dump, events: p.events, run });
      expect(r.balanced).toBe(true);
      const seeds = r.balances.filter((b) => b.stage === 'seed' && !b.subject.startsWith('run'));
      expect(seeds.reduce((n, b) => n + term(b, 'not selected: seed --limit'), 0)).toBe(p.transform.events - 100);
      expect(seeds.reduce((n, b) => n + term(b, 'routed to a queue'), 0)).toBe(100);
      const runBalance = r.balances.find((b) => b.stage === 'seed' && b.subject.startsWith('run'))!;
      expect(runBalance.total.count).toBe(100);
      expect(term(runBalance, 'confirmed by the broker')).toBe(100);
      expect(r.totals.notSelected).toBe(p.transform.events - 100);
    });

    it('an unroutable type: its events are flagged "returned unroutable" at the seed stage', async () => {
      const types = Object.keys(p.transform.eventsByType);
      const unbound = 'likes.photo-liked';
      const { exchange } = await topology(types.filter((t) => t !== unbound));
      const run = await seedWithReport(exchange);
      const r = await runLedger({ dump: p.dump, events: p.events, run });
      expect(r.balanced).toBe(true);
      const likes = find(r, 'seed', unbound);
      expect(likes.terms).toContainEqual({ label: 'returned unroutable (no queue bound for the type)', count: p.transform.eventsByType[unbound], kind: 'loss' });
      expect(term(likes, 'routed to a queue')).toBe(0);
      expect(term(find(r, 'seed', 'chat.message-sent'), 'returned unroutable')).toBe(0);
      expect(r.totals.unroutable).toBe(p.transform.eventsByType[unbound]);
    });

    it('events taken from the queue before tap counted them: unaccounted at the tap stage, exit code 5', async () => {
      const { exchange, queue } = await topology(['#']);
      const run = await seedWithReport(exchange);
      const taken: string[] = [];
      while (taken.length < 7) {
        const msg = await channel.get(queue, { noAck: true });
        if (msg) taken.push(String(msg.properties.type));
      }
      const tapJson = join(p.dir, `${uniqueName('tap')}.json`);
      const tapped = await runCommand(tapCommand(), ['--events', p.events, '--exchange', exchange, '--queue', queue, '--idle', '1s', '--json', tapJson, '--progress', 'off']).catch((e: unknown) => e);
      expect(tapped).toBeInstanceOf(Error); // tap itself fails: events are missing

      const r = await runLedger({ dump: p.dump, events: p.events, run, tap: tapJson });
      expect(r.balanced).toBe(false);
      const missing = r.unaccounted.filter((u) => u.stage === 'tap');
      expect(missing.reduce((n, u) => n + u.count, 0)).toBe(7);
      const byType = new Map<string, number>();
      for (const t of taken) byType.set(t, (byType.get(t) ?? 0) + 1);
      for (const [type, n] of byType) expect(missing.find((u) => u.subject === type)?.count, type).toBe(n);
      // Everything before tap balances.
      expect(r.unaccounted.filter((u) => u.stage !== 'tap')).toEqual([]);

      const cli = await runCommand(ledgerCommand(), ['--dump', p.dump, '--events', p.events, '--run', run, '--tap', tapJson]);
      expect(cli.code).toBe(EXIT.LEDGER_UNBALANCED);
      expect(cli.stdout).toMatch(/unaccounted for:\n {2}tap /);
    });
  });
});

async function firstEvent(events: string, type: string): Promise<SeedEvent> {
  for await (const batch of decodeEvents(events, decodeEnvelope)) {
    const e = batch.find((x) => x.type === type);
    if (e) return e;
  }
  throw new Error(`no ${type} event in ${events}`);
}
