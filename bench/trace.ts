/**
 * Trace: `seedline trace Messages <id>` on the finland dump's events, through the real CLI in a
 * child process (start-up included, what a user waits for), against the same run's baseline:
 * one full scan of the events (every module's stream, merged) for that row's events (what a trace without an index
 * would do). Also the one cold trace that builds the index (<events>/.trace-index/).
 *
 * Dump: the transform bench's cached dump (Members, Messages); its events are transformed once
 * and cached in os.tmpdir() too. Target: a warm trace under 2 s, judged on the CLI's CPU time
 * (`seedline --version` is timed in the same rounds: the start-up every command pays).
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION } from '../common/version.ts';
import { DEFAULT_SEED } from '../fixtures/presets.ts';
import { TRACE_INDEX_DIR } from '../ledger/trace-index.ts';
import { traceRow } from '../ledger/trace.ts';
import { combinedEntry, decodeEvents, eventStreams, readManifest } from '../recordfile/index.ts';
import { decodeEnvelope } from '../seeder/broker/envelope.ts';
import { transform } from '../transformer/transform.ts';
import { medianOf, runCli, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';
import { cachedDump } from './transform.ts';

const TARGET_SECONDS = 2;

export const traceBench: Benchmark = {
  name: 'trace',
  description: 'seedline trace of one Messages row on finland (CLI, index cached) vs a full scan of the events for it',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const preset = process.env['SEEDLINE_BENCH_PRESET'] ?? (ctx.quick ? 'small' : 'finland');
    const dump = await cachedDump(preset, DEFAULT_SEED, ctx.log);
    const events = await cachedEvents(dump, preset, ctx.log);
    const stream = combinedEntry(eventStreams(await readManifest(events), events));
    const messages = (await readManifest(dump)).streams['Messages']!.records;
    const key = String(Math.floor(messages / 2));
    const usage = join(tmpdir(), `seedline-bench-trace-usage-${process.pid}.json`);
    const args = ['trace', 'Messages', key, '--dump', dump, '--events', events];

    await rm(join(events, TRACE_INDEX_DIR), { recursive: true, force: true });
    ctx.log('  cold trace (builds the index) ...');
    const cold = await runCli(args, usage);
    const expected = (await traceRow({ dump, events }, 'Messages', key)).events.length;

    const warm: number[] = [];
    const warmCpu: number[] = [];
    const library: number[] = [];
    const startup: number[] = [];
    const startupCpu: number[] = [];
    const scan: number[] = [];
    for (let round = 0; round < ctx.rounds; round++) {
      ctx.log(`  round ${round + 1}/${ctx.rounds} ...`);
      const cli = await runCli(args, usage);
      warm.push(cli.seconds);
      warmCpu.push(cli.cpuSeconds);
      const bare = await runCli(['--version'], usage);
      startup.push(bare.seconds);
      startupCpu.push(bare.cpuSeconds);
      let started = performance.now();
      const t = await traceRow({ dump, events }, 'Messages', key);
      library.push((performance.now() - started) / 1000);
      if (t.events.length !== expected) throw new Error(`trace found ${t.events.length} events, then ${expected}`);
      started = performance.now();
      let found = 0;
      for await (const batch of decodeEvents(events, decodeEnvelope)) {
        for (const e of batch) if (e.sourceTable === 'Messages' && e.sourcePrimaryKey === key) found++;
      }
      scan.push((performance.now() - started) / 1000);
      if (found !== expected) throw new Error(`the scan found ${found} events of Messages ${key}, trace ${expected}`);
    }
    const problems: string[] = [];
    // Judged on CPU time: on a machine shared by many, the wall time of a child process is
    // mostly waiting for a core (`seedline --version` alone then takes seconds).
    if (!ctx.quick && medianOf(warmCpu) > TARGET_SECONDS) problems.push(`a warm trace costs ${medianOf(warmCpu).toFixed(2)} CPU-s (median), over the ${TARGET_SECONDS} s target`);
    return {
      lines: [
        `  events     ${preset}: ${stream.records.toLocaleString('en-US')} events in ${stream.parts.length} parts (cache ${events}); traced Messages ${key}: ${expected} events`,
        `  cold       first trace, building the index: ${cold.seconds.toFixed(2)} s (${cold.cpuSeconds.toFixed(1)} CPU-s, peak RSS ${(cold.maxRss / 2 ** 20).toFixed(0)} MB)`,
        `  trace CLI  median ${medianOf(warm).toFixed(2)} s wall, ${medianOf(warmCpu).toFixed(2)} CPU-s (start-up included)   target < ${TARGET_SECONDS} s`,
        `  start-up   seedline --version in the same rounds: median ${medianOf(startup).toFixed(2)} s wall, ${medianOf(startupCpu).toFixed(2)} CPU-s`,
        `  library    traceRow() median ${medianOf(library).toFixed(3)} s`,
        `  baseline   full scan of the events for the row: median ${medianOf(scan).toFixed(2)} s`,
        `  ratio      trace CLI ÷ full scan ${(medianOf(warm) / medianOf(scan)).toFixed(3)}   library ÷ full scan ${(medianOf(library) / medianOf(scan)).toFixed(3)}`,
      ],
      problems,
    };
  },
};

/** The events of the cached dump, transformed once per seedline version and reused. */
async function cachedEvents(dump: string, preset: string, log: (line: string) => void): Promise<string> {
  const dir = join(tmpdir(), `seedline-bench-trace-events-${preset}-seed${DEFAULT_SEED}-${VERSION}`);
  if (await readManifest(dir).then((m) => m.complete, () => false)) return dir;
  log(`transforming the ${preset} dump once into ${dir} ...`);
  await transform({ dump, out: dir, modules: ['members', 'chat'], overwrite: true, progress: 'off' });
  return dir;
}
