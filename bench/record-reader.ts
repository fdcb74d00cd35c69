/**
 * Record-file reader: seedline's decodeStream against a bare loop doing only
 * read → gunzip → split → decode, on the same ~1 M chat messages in the same run.
 * The ratio is seedline's overhead (framing checks, error bookkeeping, sha256
 * verification, async generators); anything under ~0.9 is a regression to look at.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProtos, lookupType } from '../common/protos.ts';
import { decodeStream, readManifest } from '../recordfile/index.ts';
import { bareDecode } from './bare-decode.ts';
import { alternate, best, formatMB, formatRate, median, medianOf, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';
import { MESSAGES_PROTO, MESSAGES_STREAM, MESSAGES_TYPE, writeChatDatasetInChild } from './write-chat-dataset.ts';

const STREAM = MESSAGES_STREAM;
/**
 * Below this seedline/baseline ratio (median of the per-round ratios) the benchmark fails.
 * The target is 0.9; the floor leaves room for a busy 2-core machine.
 */
const RATIO_FLOOR = 0.8;

export const recordReader: Benchmark = {
  name: 'record-reader',
  description: 'decodeStream vs a bare gunzip + split + decode loop over ~1 M chat messages',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const records = ctx.quick ? 100_000 : 1_000_000;
    const type = lookupType(await loadProtos([MESSAGES_PROTO]), MESSAGES_TYPE, [MESSAGES_PROTO]);
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-'));
    try {
      ctx.log(`writing ${records.toLocaleString('en-US')} chat messages to ${dir} ...`);
      const writeStarted = Date.now();
      await writeChatDatasetInChild(dir, records);
      const writeSeconds = (Date.now() - writeStarted) / 1000;
      const parts = (await readManifest(dir)).streams[STREAM]!.parts;
      const compressed = parts.reduce((n, p) => n + p.compressedBytes, 0);
      const uncompressed = parts.reduce((n, p) => n + p.uncompressedBytes, 0);
      const decode = (bytes: Uint8Array) => type.decode(bytes);
      const rssBefore = process.memoryUsage.rss();
      const files = (await readdir(join(dir, STREAM))).sort().map((f) => join(dir, STREAM, f));

      const [seedline, baseline] = await alternate(
        [
          { name: 'seedline', run: () => seedlineReader(dir, decode) },
          { name: 'baseline', run: () => baselineReader(files, decode) },
        ],
        ctx.rounds,
        records,
        ctx.log,
      );
      const ratioBest = best(seedline!) / best(baseline!);
      const ratioMedian = median(seedline!) / median(baseline!);
      // Runs of one round are adjacent in time: their ratio cancels most of the drift that other
      // processes cause on a shared machine, so the floor is checked on the median of these.
      const ratioPaired = medianOf(seedline!.rates.map((r, i) => r / baseline!.rates[i]!));
      // Same work in both, so the CPU-time ratio is the overhead even when other processes compete.
      const ratioCpu = medianOf(baseline!.cpuSeconds) / medianOf(seedline!.cpuSeconds);
      const row = (s: typeof seedline) =>
        `  ${s!.name.padEnd(10)} best ${formatRate(best(s!))} rec/s   median ${formatRate(median(s!))} rec/s   ` +
        `CPU ${((medianOf(s!.cpuSeconds) / records) * 1e6).toFixed(2)} µs/rec   peak RSS ${formatMB(s!.peakRss)}`;
      const problems =
        ratioPaired < RATIO_FLOOR && !ctx.quick
          ? [`seedline reads at ${(ratioPaired * 100).toFixed(0)}% of the baseline (median per round), under the ${RATIO_FLOOR * 100}% floor`]
          : [];
      return {
        lines: [
          `  data set   ${records.toLocaleString('en-US')} records in ${parts.length} parts, ${formatMB(compressed)} gzipped, ${formatMB(uncompressed)} uncompressed (written in ${writeSeconds.toFixed(1)} s)`,
          `  RSS        ${formatMB(rssBefore)} before reading`,
          row(seedline),
          row(baseline),
          `  ratio      seedline/baseline: best ${ratioBest.toFixed(3)}   median ${ratioMedian.toFixed(3)}   per round (median) ${ratioPaired.toFixed(3)}   by CPU time ${ratioCpu.toFixed(3)}`,
        ],
        problems,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** What a stage does: the library reader, with every check it makes. */
async function seedlineReader(dir: string, decode: (bytes: Uint8Array) => unknown): Promise<number> {
  let count = 0;
  for await (const batch of decodeStream(dir, STREAM, decode)) count += batch.length;
  return count;
}

/** Only what reading must do: read, gunzip, split on varint prefixes, decode. */
async function baselineReader(files: readonly string[], decode: (bytes: Uint8Array) => unknown): Promise<number> {
  let count = 0;
  for (const file of files) count += await bareDecode(file, decode);
  return count;
}
