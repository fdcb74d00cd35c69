/**
 * Transform: whole `transform()` (read, generate, encode, sort within --memory, write) against a
 * bare loop doing only read → gunzip → split → decode of every dump part, in the same run.
 *
 * The dump holds the fixture's Members and Messages (the tables the current modules read),
 * generated with the fixture generators and written with DatasetWriter exactly as extract
 * would write them (schemas/legacy/*.proto, local times converted from Europe/Helsinki), with
 * no database. It is cached in os.tmpdir() keyed by preset and seed, so reruns start at once.
 *
 * Preset: `finland` (~1.25 M rows); `--quick` or SEEDLINE_BENCH_PRESET=small for a quick run.
 * Memory budget: SEEDLINE_BENCH_MEMORY_MB (default 512, the CLI default). The RSS limit
 * (--memory + 150 MB) is checked on the real CLI, run once in a child process of its own.
 */
import { fork } from 'node:child_process';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';
import { loadProtos, lookupType } from '../common/protos.ts';
import { EXIT } from '../common/exit-codes.ts';
import { VERSION } from '../common/version.ts';
import { FIXTURE_TIMEZONE, formatDate } from '../fixtures/clock.ts';
import type { Row } from '../fixtures/copy-text.ts';
import { fixtureGenerators } from '../fixtures/generate/index.ts';
import { DEFAULT_SEED } from '../fixtures/presets.ts';
import type { TableSpec } from '../fixtures/tables.ts';
import { ZoneConverter } from '../extractor/mssql-time.ts';
import { DatasetWriter, readManifest } from '../recordfile/index.ts';
import { legacySchema } from '../transformer/legacy-rows.ts';
import { MODULES } from '../transformer/modules/index.ts';
import { transform } from '../transformer/transform.ts';
import { bareDecode } from './bare-decode.ts';
import { alternate, best, formatMB, formatRate, median, medianOf, runCli, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';

const TABLES = ['Members', 'Messages'] as const;
/** The tables of the cached bench dump (bench/transform-module.ts uses it too). */
export const BENCH_DUMP_TABLES: readonly string[] = TABLES;
/** Bump when the dump's content or layout changes, so a stale cache is not reused. */
const DUMP_FORMAT = 3;
/** The issue's target: transform events/s at least this share of the bare decode rate. */
const TARGET_RATIO = 0.5;
/** Peak RSS may exceed the memory budget by this much (the issue's target). */
const RSS_SLACK = 150 * 1024 * 1024;

export const transformBench: Benchmark = {
  name: 'transform',
  description: 'transform() end to end (sort included) vs a bare gunzip + split + decode of every dump part',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const preset = process.env['SEEDLINE_BENCH_PRESET'] ?? (ctx.quick ? 'small' : 'finland');
    const memoryBytes = Number(process.env['SEEDLINE_BENCH_MEMORY_MB'] ?? 512) * 1024 * 1024;
    const dump = await cachedDump(preset, DEFAULT_SEED, ctx.log);
    const manifest = await readManifest(dump);
    const files: string[] = [];
    let rows = 0;
    let compressed = 0;
    for (const table of TABLES) {
      const parts = manifest.streams[table]!.parts;
      for (const p of parts) {
        files.push(join(dump, p.file));
        rows += p.records;
        compressed += p.compressedBytes;
      }
    }
    const decoders = await Promise.all(TABLES.map(async (t) => decoderOf(t)));
    const modules = MODULES.filter((m) => m.reads.every((t) => (TABLES as readonly string[]).includes(t))).map((m) => m.name);
    const work = await mkdtemp(join(tmpdir(), 'seedline-bench-transform-'));
    let events = 0;
    let sortRuns = 0;
    try {
      const runTransform = async () => {
        const result = await transform({ dump, out: join(work, 'events'), modules, memoryBytes, overwrite: true, progress: 'off' });
        events = result.events;
        sortRuns = result.sortRuns;
        return result.events;
      };
      const runBaseline = async () => {
        let count = 0;
        for (const table of TABLES) {
          const decode = decoders[TABLES.indexOf(table)]!;
          for (const p of manifest.streams[table]!.parts) count += await bareDecode(join(dump, p.file), decode);
        }
        return count;
      };
      // Both variants report rows read, so `alternate` checks neither silently did less work.
      const [seedline, baseline] = await alternate(
        [
          { name: 'transform', run: async () => (await runTransform(), rows) },
          { name: 'baseline', run: runBaseline },
        ],
        ctx.rounds,
        rows,
        ctx.log,
      );
      // The issue's memory limit is about the CLI: the bench process also holds the baseline's heap.
      ctx.log('  the CLI on its own (child process) ...');
      const cliArgs = ['transform', '--dump', dump, '--out', join(work, 'events-cli'), '--module', modules.join(','), '--memory', `${memoryBytes / 1024 / 1024}MB`, '--overwrite', '--progress', 'off'];
      const cli = await runCli(cliArgs, join(work, 'cli-usage.json'), [0, EXIT.DONE_WITH_REJECTS]);
      // Rates are per row read; events/s is the same run's events over its time.
      const eventRates = seedline!.rates.map((r) => (r * events) / rows);
      const ratioPaired = medianOf(eventRates.map((r, i) => r / baseline!.rates[i]!));
      // Events per CPU second ÷ rows per CPU second: fairer than wall time on a busy machine.
      const ratioCpu = (events / medianOf(seedline!.cpuSeconds)) / (rows / medianOf(baseline!.cpuSeconds));
      const rssLimit = memoryBytes + RSS_SLACK;
      const problems: string[] = [];
      if (!ctx.quick && ratioPaired < TARGET_RATIO) {
        problems.push(`transform runs at ${(ratioPaired * 100).toFixed(0)}% of the bare decode rate, under the ${TARGET_RATIO * 100}% target`);
      }
      if (cli.maxRss > rssLimit) {
        problems.push(`the transform CLI's peak RSS ${formatMB(cli.maxRss)} is over --memory + 150 MB (${formatMB(rssLimit)})`);
      }
      const cpuPer = (s: typeof seedline, units: number) => ((medianOf(s!.cpuSeconds) / units) * 1e6).toFixed(2);
      return {
        lines: [
          `  dump       ${preset} seed ${DEFAULT_SEED}: ${rows.toLocaleString('en-US')} rows (${TABLES.join(', ')}) in ${files.length} parts, ${formatMB(compressed)} gzipped; cache ${dump}`,
          `  transform  modules ${modules.join(', ')}, --memory ${formatMB(memoryBytes)}: ${events.toLocaleString('en-US')} events, ${sortRuns} sorted runs spilled`,
          `  transform  best ${formatRate(Math.max(...eventRates))} events/s   median ${formatRate(medianOf(eventRates))} events/s   ` +
            `CPU ${cpuPer(seedline, events)} µs/event   peak RSS ${formatMB(seedline!.peakRss)} (bench process)`,
          `  CLI        node bin/seedline.js transform (child process, once): ${cli.seconds.toFixed(1)} s, ${cli.cpuSeconds.toFixed(1)} CPU-s ` +
            `(${((cli.cpuSeconds / events) * 1e6).toFixed(2)} µs/event, start-up included)   peak RSS ${formatMB(cli.maxRss)} (limit ${formatMB(rssLimit)})`,
          `  baseline   best ${formatRate(best(baseline!))} rows/s     median ${formatRate(median(baseline!))} rows/s     ` +
            `CPU ${cpuPer(baseline, rows)} µs/row     peak RSS ${formatMB(baseline!.peakRss)}`,
          `  ratio      transform events/s ÷ baseline rows/s: per round (median) ${ratioPaired.toFixed(3)}   by CPU time ${ratioCpu.toFixed(3)}   target ${TARGET_RATIO}`,
        ],
        problems,
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};

async function decoderOf(table: string): Promise<(bytes: Uint8Array) => unknown> {
  const { file, messageType } = legacySchema(table);
  const type = lookupType(await loadProtos([file]), messageType, [file]);
  return (bytes) => type.decode(bytes);
}


/** The dump of `preset`/`seed`, written once (in a child process) and reused. */
export async function cachedDump(preset: string, seed: number, log: (line: string) => void): Promise<string> {
  const dir = join(tmpdir(), `seedline-bench-dump-${preset}-seed${seed}-v${DUMP_FORMAT}`);
  const complete = await readManifest(dir).then((m) => m.complete, () => false);
  if (complete) return dir;
  const partial = `${dir}.writing-${process.pid}`;
  log(`writing the ${preset} dump (Members, Messages) to ${dir} ...`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [partial, preset, String(seed)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`writing the dump failed (exit code ${code ?? signal})`))));
  });
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  log(`  written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** Writes Members and Messages of a fixture preset as extract would, without a database. */
export async function writeFixtureDump(dir: string, preset: string, seed: number): Promise<void> {
  const { generators } = fixtureGenerators(preset, seed);
  const producer = { tool: 'seedline', version: VERSION, stage: 'extract', source: { fixture: preset, seed }, startedAt: new Date().toISOString() } as const;
  const dataset = await DatasetWriter.create(dir, producer, { overwrite: true });
  for (const table of TABLES) {
    const generator = generators.find((g) => g.table.name === table)!;
    const { file, messageType } = legacySchema(table);
    const type = lookupType(await loadProtos([file]), messageType, [file]);
    const toMessage = messageOf(generator.table, type);
    // The key column and per-part key ranges, as extract records them (trace reads only the parts that can hold a key).
    const keys = generator.table.primaryKey ?? [];
    const at = keys.map((k) => generator.table.columns.findIndex((c) => c.name === k));
    const writer = dataset.streamWriter(table, { messageType, protoPath: file, info: { primaryKey: keys } });
    for (const row of generator.generate()) {
      const wait = writer.write(type.encode(toMessage(row)).finish(), at.length > 0 ? at.map((i) => String(row[i])) : undefined);
      if (wait) await wait;
    }
    await writer.close();
  }
  await dataset.finish();
}

/** A generated row (column order, fixture value shapes) → the legacy message extract would write. */
function messageOf(table: TableSpec, type: protobuf.Type): (row: Row) => Record<string, unknown> {
  const convert = table.columns.map((c) => {
    if (!type.fields[c.name]) throw new Error(`${table.name}.${c.name} is not in ${type.fullName}`);
    if (c.type === 'datetime') return (v: unknown) => naiveToUtcMicros(v as number);
    if (c.type === 'date') return (v: unknown) => formatDate(v as number);
    return (v: unknown) => v;
  });
  return (row) => {
    const message: Record<string, unknown> = {};
    for (let i = 0; i < convert.length; i++) {
      const v = row[i];
      if (v !== null && v !== undefined) message[table.columns[i]!.name] = convert[i]!(v);
    }
    return message;
  };
}

/** Server-local naive ms (clock.ts) → UTC microseconds, with the extractor's own zone rules. */
const helsinki = new ZoneConverter(FIXTURE_TIMEZONE);
function naiveToUtcMicros(naiveMs: number): number {
  return Number(helsinki.toUtc(BigInt(naiveMs) * 1000n));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, preset, seed] = process.argv.slice(2);
  if (!dir || !preset || !seed) {
    console.error('usage: tsx bench/transform.ts <dir> <preset> <seed>');
    process.exit(2);
  }
  await writeFixtureDump(dir, preset, Number(seed));
}
