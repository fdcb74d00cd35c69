/**
 * Seed resume: what `seed --resume` reads before its first event, on a multi-stream events data
 * set (one stream per module, merged: recordfile/merged-events.ts). Both variants read the
 * events from 90% through with the seeder's own reader (seeder/input/event-reader.ts: every part
 * read is checked against its sha256 first) and decode the tail as seed does; the broker is left
 * out (publishing the tail costs the same in both). "skip" is the data set as transform writes
 * it (each part's keyRange: its first and last occurred_at); "no skip" is the same parts with
 * the key ranges left out of the manifest, so every stream is read from its first part — what
 * every multi-stream resume did before skipPlan.
 *
 * Data set: generated envelopes (~170 bytes each, a chat-like payload) written by DatasetWriter
 * with transform's gzip level and part size, in eight module streams of very different sizes
 * (chat 60% down to blocks 1%: the small ones are one part spanning the whole time, which the
 * skip must read anyway). Cached in os.tmpdir(). 3 M events (quick: 300 k). Parts of 64 MB
 * as transform cuts them, or `SEEDLINE_BENCH_RESUME_PART_MB=8`: smaller parts give 3 M events
 * the parts-per-stream proportions of a data set ~8x larger.
 */
import { fork } from 'node:child_process';
import { cp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVELOPE_PROTO, ENVELOPE_TYPE, envelopeType } from '../common/protos.ts';
import { VERSION } from '../common/version.ts';
import { DatasetWriter, eventCount, eventStreams, moduleStreamName, readManifest, skipPlan, type Manifest } from '../recordfile/index.ts';
import { decodeEnvelope } from '../seeder/broker/envelope.ts';
import { readEventsFrom } from '../seeder/input/event-reader.ts';
import { DEFAULT_EVENTS_GZIP_LEVEL } from '../transformer/transform.ts';
import { medianOf, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';

const FULL = 3_000_000;
const QUICK = 300_000;
const AT = 0.9;
const PART_BYTES = Number(process.env['SEEDLINE_BENCH_RESUME_PART_MB'] ?? 64) * 1024 * 1024;
/** Module, its index in the module list, its share of the events. */
const MODULES: readonly [string, number, number][] = [
  ['members', 0, 0.05],
  ['photos', 1, 0.02],
  ['chat', 2, 0.6],
  ['flirts', 3, 0.05],
  ['favorites', 4, 0.04],
  ['visits', 5, 0.15],
  ['blocks', 6, 0.01],
  ['likes', 7, 0.08],
];
/** 2010-01-01 to 2025-01-01, µs. */
const T0 = 1_262_304_000_000_000;
const SPAN = 15 * 365 * 86_400_000_000;

export const seedResumeBench: Benchmark = {
  name: 'seed-resume',
  description: `seed --resume from ${AT * 100}% of a multi-stream events data set: reading to its first event and through the tail, parts skipped by key range vs read from the start`,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const events = ctx.quick ? QUICK : FULL;
    const dir = await cachedEvents(events, ctx.log);
    const noSkip = `${dir}-no-key-ranges`;
    try {
      await cp(dir, noSkip, { recursive: true, force: true });
      const manifest = await readManifest(dir);
      const stripped: Manifest = { ...manifest, streams: Object.fromEntries(Object.entries(manifest.streams).map(([n, s]) => [n, { ...s, parts: s.parts.map(({ keyRange: _, ...p }) => p) }])) };
      await writeFile(join(noSkip, 'manifest.json'), JSON.stringify(stripped, null, 2));
      return await measure(ctx, dir, noSkip);
    } finally {
      await rm(noSkip, { recursive: true, force: true });
    }
  },
};

async function measure(ctx: BenchContext, dir: string, noSkip: string): Promise<BenchResult> {
  const manifest = await readManifest(dir);
  const streams = eventStreams(manifest, dir);
  const total = eventCount(streams);
  const start = Math.floor(total * AT);
  const parts = streams.reduce((n, s) => n + s.entry.parts.length, 0);
  const skipped = skipPlan(streams, start).skip.reduce((a, b) => a + b, 0);

  const runs: Record<'skip' | 'no skip', { first: number[]; all: number[]; cpu: number[] }> = {
    skip: { first: [], all: [], cpu: [] },
    'no skip': { first: [], all: [], cpu: [] },
  };
  for (let round = 0; round < ctx.rounds; round++) {
    // Alternating which goes first: neither always pays the warm-up or finds the page cache cold.
    const order = [['skip', dir], ['no skip', noSkip]] as const;
    for (const [name, path] of round % 2 === 0 ? order : [...order].reverse()) {
      ctx.log(`  round ${round + 1}/${ctx.rounds}: ${name} ...`);
      const s = eventStreams(await readManifest(path), path);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let first = -1;
      let n = 0;
      let expected = start;
      for await (const batch of readEventsFrom(path, s, start, decodeEnvelope)) {
        if (first < 0) first = performance.now() - t0;
        if (batch.first !== expected) throw new Error(`${name}: batch at ${batch.first}, expected ${expected}`);
        expected += batch.events.length;
        n += batch.events.length;
      }
      const cpu = process.cpuUsage(cpu0);
      if (n !== total - start) throw new Error(`${name}: ${n} events from ${start}, expected ${total - start}`);
      runs[name].first.push(first / 1000);
      runs[name].all.push((performance.now() - t0) / 1000);
      runs[name].cpu.push((cpu.user + cpu.system) / 1e6);
    }
  }
  const line = (name: 'skip' | 'no skip') =>
    `  ${name.padEnd(8)} first event after median ${medianOf(runs[name].first).toFixed(2)} s, tail read in ${medianOf(runs[name].all).toFixed(2)} s, ${medianOf(runs[name].cpu).toFixed(2)} CPU-s`;
  return {
    lines: [
      `  events   ${total.toLocaleString('en-US')} in ${streams.length} streams, ${parts} parts of ≤ ${PART_BYTES >> 20} MB (cache ${dir}); resume at ${start.toLocaleString('en-US')}: ${skipped} parts skipped`,
      line('skip'),
      line('no skip'),
      `  ratio    tail read: skip ÷ no skip ${(medianOf(runs.skip.all) / medianOf(runs['no skip'].all)).toFixed(3)} wall, ${(medianOf(runs.skip.cpu) / medianOf(runs['no skip'].cpu)).toFixed(3)} CPU`,
    ],
    problems: [],
  };
}

async function cachedEvents(events: number, log: (line: string) => void): Promise<string> {
  const dir = join(tmpdir(), `seedline-bench-resume-events-${events}-${PART_BYTES >> 20}MB-${VERSION}`);
  if (await readManifest(dir).then((m) => m.complete, () => false)) return dir;
  log(`writing ${events.toLocaleString('en-US')} events to ${dir} ...`);
  await new Promise<void>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [dir, String(events)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`writing the events failed (exit code ${code ?? signal})`))));
  });
  return dir;
}

/** Writes `events` generated envelopes in one stream per module, each part with its keyRange as transform records it. */
async function writeEvents(dir: string, events: number): Promise<void> {
  const Event = await envelopeType();
  const producer = { tool: 'seedline', version: VERSION, stage: 'test', startedAt: new Date().toISOString() } as const;
  const dataset = await DatasetWriter.create(dir, producer, { overwrite: true });
  const words = 'hej tja fika sjalv center train study picture forward write need du'.split(' ');
  for (const [module, moduleIndex, share] of MODULES) {
    const n = Math.round(events * share);
    const stream = dataset.streamWriter(moduleStreamName(module), { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO, gzipLevel: DEFAULT_EVENTS_GZIP_LEVEL, maxPartBytes: PART_BYTES });
    for (let i = 0; i < n; i++) {
      const t = T0 + Math.floor((i * SPAN) / n);
      const body = Array.from({ length: 8 + (i % 11) }, (_, w) => words[(i * 7 + w * 3) % words.length]).join(' ');
      const bytes = Event.encode({
        id: `${(i * 2654435761) % 2 ** 32}`.padStart(12, '0') + '-5b1e-5c3a-9d2f-1a2b3c4d5e6f',
        type: `${module}.happened`,
        occurred_at: t,
        key: String(i % 100_000),
        payload: Buffer.from(body),
        payload_type: `seedline.events.${module}.Happened`,
        source: { table: module, primary_key: String(i + 1) },
      }).finish();
      const wait = stream.write(bytes, t);
      if (wait) await wait;
    }
    await stream.close({ module, moduleIndex });
  }
  await dataset.finish();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, events] = process.argv.slice(2);
  await writeEvents(dir!, Number(events));
}
