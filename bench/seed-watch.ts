/**
 * The backlog watch's cost: seed() at unlimited rate without the watch against the same run
 * with it (management API + a passive declare per queue per second, as `seedline seed` does by
 * default), alternating in the same run against the local RabbitMQ, 2 bound queues. The watch
 * must not cost more than 2 % of the publish rate. The queues are purged between runs, outside
 * the timing; starting the watch (its connection, the management API check) is inside it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seed } from '../seeder/seed.ts';
import { QueueWatch } from '../seeder/backlog/watch.ts';
import { seedWatched } from '../seeder/backlog/watch-seed.ts';
import { formatRate, medianOf, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';
import { Topology, URL, inChild, rounds } from './seed.ts';

const FULL = 100_000;
const QUEUES = 2;
/** The watched run must publish at ≥ 98 % of the unwatched one. */
const RATIO_TARGET = 0.98;

export const seedWatchBench: Benchmark = {
  name: 'seed-watch',
  description: `seed() with the backlog watch vs without, ${QUEUES} bound queues, unlimited rate`,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-watch-'));
    const lines: string[] = [];
    const problems: string[] = [];
    const count = ctx.quick ? FULL / 10 : FULL;
    const events = join(dir, 'events');
    ctx.log(`writing ${count.toLocaleString('en-US')} chat events to ${events} ...`);
    await inChild(events, count);
    const topology = await Topology.declare(QUEUES);
    let source = '';
    try {
      const base = { events, url: URL, exchange: topology.exchange, checkpoint: false as const, progress: 'off' as const };
      const watched = async () => {
        const watch = await QueueWatch.start({ url: URL, exchange: topology.exchange });
        source = watch.source;
        try {
          const result = await seedWatched(base, watch);
          if (watch.queueNames().length !== QUEUES) throw new Error(`the watch saw ${watch.queueNames().length} queues, expected ${QUEUES}`);
          return result.confirmed;
        } finally {
          await watch.stop();
        }
      };
      const stats = await rounds(
        [
          { name: 'unwatched', run: () => seed(base).then((r) => r.confirmed) },
          { name: 'watched', run: watched },
        ],
        ctx,
        count,
        () => topology.purge(),
      );
      const [plain, watching] = stats;
      const paired = medianOf(watching!.rates.map((r, i) => r / plain!.rates[i]!));
      lines.push(`  data set   ${count.toLocaleString('en-US')} chat.message-sent events, ${QUEUES} queues bound to '#'; watch: ${source}`);
      for (const s of stats) lines.push(`  ${s.name.padEnd(10)} best ${formatRate(Math.max(...s.rates))} ev/s  median ${formatRate(medianOf(s.rates))} ev/s  CPU ${((medianOf(s.cpu) / count) * 1e6).toFixed(1)} µs/ev`);
      lines.push(`  ratio      watched/unwatched per round (median) ${paired.toFixed(3)}   rounds ${watching!.rates.map((r, i) => (r / plain!.rates[i]!).toFixed(3)).join(' ')}`);
      const idle = await watchAlone(topology.exchange, ctx.quick ? 5 : 20);
      lines.push(`  watch alone ${idle.cpuMsPerSecond.toFixed(2)} ms CPU per second of watching (${idle.samples} samples of ${QUEUES} queues over ${idle.seconds}s): ${(idle.cpuMsPerSecond / 10).toFixed(2)}% of one core, whatever the publish rate`);
      if (!ctx.quick && paired < RATIO_TARGET) problems.push(`the watch costs ${((1 - paired) * 100).toFixed(1)}% of the publish rate, over ${((1 - RATIO_TARGET) * 100).toFixed(0)}%`);
    } finally {
      await topology.remove();
      await rm(dir, { recursive: true, force: true });
    }
    return { lines, problems };
  },
};

/**
 * The watch's own cost, apart from the broker's noise: CPU of this process while it watches
 * with nothing else running. A publisher that is CPU-bound loses at most this share of a core.
 */
async function watchAlone(exchange: string, seconds: number): Promise<{ cpuMsPerSecond: number; samples: number; seconds: number }> {
  const watch = await QueueWatch.start({ url: URL, exchange });
  const before = process.cpuUsage();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(before);
  const elapsed = (performance.now() - started) / 1000;
  const samples = watch.samplesOf(watch.queueNames()[0] ?? '').length;
  await watch.stop();
  return { cpuMsPerSecond: (cpu.user + cpu.system) / 1000 / elapsed, samples, seconds };
}
