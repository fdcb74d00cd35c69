import { join, resolve } from 'node:path';
import amqp from 'amqplib';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { extract, type ExtractResult } from '../extractor/extract.ts';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { createFixture } from '../fixtures/create-fixture.ts';
import type { FixtureSummary } from '../fixtures/summary.ts';
import { FIXTURE_SCHEMA, FIXTURE_TABLES } from '../fixtures/tables.ts';
import { seed } from '../seeder/seed.ts';
import type { SeedResult } from '../seeder/summary.ts';
import { transform, type TransformResult } from '../transformer/transform.ts';
import { verdictLine } from '../ledger/format.ts';
import { writeLedger } from '../ledger/ledger-cli.ts';
import type { LedgerResult } from '../ledger/ledger.ts';

export interface DemoOptions {
  /** Where dump/ and events/ go. */
  readonly out: string;
  /** A PostgreSQL database to load the fixture into; default: an embedded PostgreSQL. */
  readonly target?: string;
  readonly preset?: string;
  /** RabbitMQ to seed. */
  readonly amqpUrl?: string;
  readonly exchange?: string;
  /** A durable queue bound to every event type, so the seeded events can be looked at. */
  readonly queue?: string;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
  /** Called as each stage finishes, for the CLI to say where its output went. */
  readonly onStage?: (line: string) => void;
}

export interface DemoResult {
  readonly database: string;
  readonly fixture: FixtureSummary;
  readonly extract: ExtractResult;
  readonly transform: TransformResult;
  readonly seed: SeedResult;
  readonly queue: string;
  readonly ledger: LedgerResult;
}

/** Every table of the fixture: each module of transformer/modules/ reads some of them. */
export const DEMO_TABLES: readonly string[] = FIXTURE_TABLES.map((t) => `${FIXTURE_SCHEMA}.${t.name}`);
export const DEMO_EXCHANGE = 'seedline.demo';
export const DEMO_QUEUE = 'seedline.demo';
const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Every stage end to end on the fixture: load the legacy database (embedded unless a target
 * is given), extract it, transform it, seed the events into RabbitMQ.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = options.onStage ?? (() => {});
  const out = resolve(options.out);
  const common = { progress: options.progress, signal: options.signal } as const;
  const amqpUrl = options.amqpUrl ?? DEFAULT_AMQP_URL;
  const exchange = options.exchange ?? DEMO_EXCHANGE;
  const queue = options.queue ?? DEMO_QUEUE;

  // Fail on a missing broker before minutes of work, not after.
  await prepareQueue(amqpUrl, exchange, queue);

  // PGlite costs ~45 MB and 0.3 s to load: only when the embedded default is used.
  const embedded = options.target ? null : await (await import('../fixtures/embedded-postgres.ts')).startEmbeddedPostgres();
  const url = options.target ?? embedded!.url;
  const database = options.target ? redact(options.target) : `embedded PostgreSQL (PGlite) at ${embedded!.url}`;
  try {
    say(`database: ${database}`);
    const fixture = await createFixture({ url, preset: options.preset ?? 'small', ...common });
    say(`fixture:  ${fixture.totalRows.toLocaleString('en-US')} rows of the '${fixture.preset}' legacy database loaded (schema dbo)`);

    const extracted = await extract({
      source: url,
      tables: [...DEMO_TABLES],
      out: join(out, 'dump'),
      sourceTimezone: FIXTURE_TIMEZONE,
      // PGlite is one backend session: parallel connections cannot share a snapshot there.
      concurrency: embedded ? 1 : 2,
      overwrite: true,
      ...common,
    });
    const rows = extracted.tables.reduce((sum, t) => sum + t.rows, 0);
    say(`extract:  ${extracted.dir} (${extracted.tables.length} tables, ${rows.toLocaleString('en-US')} rows)`);

    const transformed = await transform({ dump: extracted.dir, out: join(out, 'events'), overwrite: true, ...common });
    say(
      `transform: ${transformed.out} (${transformed.events.toLocaleString('en-US')} events` +
        (transformed.rejects ? `; ${transformed.rejects.toLocaleString('en-US')} dirty rows reported in ${transformed.rejectsDir}` : '') +
        ')',
    );

    const seeded = await seed({ events: transformed.out, url: amqpUrl, exchange, ...common });
    say(
      `seed:     ${seeded.confirmed.toLocaleString('en-US')} events confirmed by RabbitMQ on exchange '${exchange}' ` +
        `(${Math.round(seeded.achievedRate).toLocaleString('en-US')}/s); they wait in queue '${queue}'`,
    );
    const ledger = await writeLedger({ dump: extracted.dir, events: transformed.out, run: { selection: {}, result: seeded } }, join(out, 'ledger.html'));
    say(`ledger:   ${verdictLine(ledger).replace(/^ledger: /, '')}; page ${join(out, 'ledger.html')}`);
    return { database, fixture, extract: extracted, transform: transformed, seed: seeded, queue, ledger };
  } finally {
    await embedded?.stop();
  }
}

/** Declares the demo's exchange and a queue bound to every event, emptied of earlier runs. */
async function prepareQueue(url: string, exchange: string, queue: string): Promise<void> {
  let connection: amqp.ChannelModel;
  try {
    connection = await amqp.connect(url);
  } catch (err) {
    throw new SeedlineError('BROKER_CONNECT', `cannot connect to RabbitMQ at ${redact(url)}: ${messageOf(err)}`, {
      option: 'amqp-url',
      hint: 'start RabbitMQ (scripts/ensure-services.sh does it on Debian), or point --amqp-url at one',
    });
  }
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, exchange, '#');
    await channel.purgeQueue(queue);
    await channel.close();
  } finally {
    await connection.close().catch(() => {});
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
