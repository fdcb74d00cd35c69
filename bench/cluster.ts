/**
 * Cluster: the aggregate rate of 1, 2 and 3 `seedline seed --partition i/N` processes against a
 * 3-node RabbitMQ cluster (scripts/rabbitmq-cluster.sh, a quorum queue with 3 replicas), as a
 * ratio to one seeder against one standalone node (a quorum queue with 1 replica), in the same
 * run, same data set, unlimited rate. Every seeder is the real CLI in a process of its own; the
 * aggregate rate is the events confirmed by all seeders over the span from the first seeder's
 * start of publishing to the last one's end (from their run reports: process start-up excluded).
 *
 * On a 2-core machine all of it — three Erlang VMs replicating every message three times, and
 * up to three Node processes — shares two cores: the figures say what that costs, not what N
 * machines would do.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { readRunReport } from '../seeder/report/report.ts';
import { PrivateBroker } from '../seeder/private-broker.ts';
import { TestCluster } from '../seeder/test-cluster.ts';
import { declareTopology } from '../seeder/broker/topology.ts';
import { formatRate, medianOf, runCli, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';
import { inChild } from './seed.ts';

const EVENTS = 30_000;
const WINDOW = 1_000;
const QUEUE = 'seedline-bench-cluster';
const EXCHANGE = 'seedline-bench-cluster';

interface Variant {
  readonly name: string;
  readonly url: string;
  readonly seeders: number;
}

export const clusterBench: Benchmark = {
  name: 'cluster',
  description: 'aggregate rate of 1, 2, 3 partitioned seeders on a 3-node cluster (quorum queue) vs 1 seeder on 1 node',
  async run(ctx: BenchContext): Promise<BenchResult> {
    if (!TestCluster.available()) throw new Error('no RabbitMQ installation to start nodes from (scripts/ensure-services.sh installs it)');
    const count = ctx.quick ? EVENTS / 10 : EVENTS;
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-cluster-'));
    const events = join(dir, 'events');
    ctx.log(`writing ${count.toLocaleString('en-US')} chat events, starting a standalone node and a 3-node cluster ...`);
    const [single, cluster] = await Promise.all([PrivateBroker.start(), TestCluster.start(), inChild(events, count)]);
    const lines: string[] = [];
    const problems: string[] = [];
    try {
      await declareTopology(single.url, EXCHANGE, { queues: [{ name: QUEUE, type: 'quorum', bindings: ['#'] }] });
      await declareTopology(cluster.urls, EXCHANGE, { queues: [{ name: QUEUE, type: 'quorum', bindings: ['#'] }] });
      const variants: Variant[] = [
        { name: '1 seeder, 1 node (baseline)', url: single.url, seeders: 1 },
        ...[1, 2, 3].map((n) => ({ name: `${n} seeder${n > 1 ? 's' : ''}, 3-node cluster`, url: cluster.urls, seeders: n })),
      ];
      const rates: number[][] = variants.map(() => []);
      // One warm-up round, then ctx.rounds timed ones; the order rotates so drift hits every variant.
      for (let round = 0; round <= ctx.rounds; round++) {
        for (let k = 0; k < variants.length; k++) {
          const i = (k + round) % variants.length;
          const v = variants[i]!;
          const rate = await aggregateRate(v, events, dir, count);
          await purge(v.url);
          ctx.log(`  ${round === 0 ? 'warm-up' : `round ${round}/${ctx.rounds}`}  ${v.name.padEnd(28)} ${formatRate(rate)} ev/s`);
          if (round > 0) rates[i]!.push(rate);
        }
      }
      const base = medianOf(rates[0]!);
      lines.push(`  data set   ${count.toLocaleString('en-US')} chat.message-sent events, one quorum queue bound to '#', window ${WINDOW} per seeder, unlimited rate`);
      for (const [i, v] of variants.entries()) {
        const m = medianOf(rates[i]!);
        lines.push(`  ${v.name.padEnd(28)} median ${formatRate(m)} ev/s  best ${formatRate(Math.max(...rates[i]!))} ev/s  ratio to baseline ${(m / base).toFixed(3)}`);
      }
    } finally {
      await Promise.all([single.dispose(), cluster.stop()]);
      await rm(dir, { recursive: true, force: true });
    }
    return { lines, problems };
  },
};

/** Runs `v.seeders` CLI processes with --partition i/N at once; events confirmed per second over their common span. */
async function aggregateRate(v: Variant, events: string, dir: string, count: number): Promise<number> {
  const reports = Array.from({ length: v.seeders }, (_, i) => join(dir, `p${i}.json`));
  await Promise.all(
    reports.map((report, i) =>
      runCli(
        ['seed', '--events', events, '--amqp-url', v.url, '--exchange', EXCHANGE, '--partition', `${i}/${v.seeders}`, '--max-in-flight', String(WINDOW), '--no-checkpoint', '--report', report, '--progress', 'off'],
        join(dir, `usage-${i}.json`),
      ),
    ),
  );
  let confirmed = 0;
  let start = Infinity;
  let end = 0;
  for (const file of reports) {
    const { writtenAt, result } = await readRunReport(file);
    const ended = Date.parse(writtenAt);
    confirmed += result!.confirmed;
    start = Math.min(start, ended - result!.elapsedMs);
    end = Math.max(end, ended);
  }
  if (confirmed !== count) throw new Error(`${v.name}: ${confirmed} events confirmed, expected ${count}`);
  return confirmed / ((end - start) / 1000);
}

async function purge(urls: string): Promise<void> {
  const connection = await amqp.connect(urls.split(',')[0]!);
  try {
    await (await connection.createChannel()).purgeQueue(QUEUE);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
