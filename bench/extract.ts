/**
 * Extraction of `Messages` from the `finland` fixture (1.2 M rows) in the local PostgreSQL:
 * seedline extract with 1 and 2 workers, against — in the same run — what the server can
 * hand out (raw `COPY (SELECT …) TO STDOUT`, pg-copy-streams, no compression) and what a
 * user would run instead (`pg_dump --table … --format=custom --compress=N`), at gzip levels
 * 1 and 6. The fixture database is created once (~1 minute) and kept for later runs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { createFixture } from '../fixtures/create-fixture.ts';
import { ensureDatabase } from '../fixtures/pg-target.ts';
import { extract } from '../extractor/extract.ts';
import { alternate, best, formatMB, formatRate, medianOf, type BenchContext, type BenchResult, type Benchmark, type RunStats } from './measure.ts';

const SERVER = process.env.SEEDLINE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const TABLE = 'dbo.Messages';
const LEVELS = [1, 6] as const;

export const extractBench: Benchmark = {
  name: 'extract',
  description: 'seedline extract of Messages (1 and 2 workers) vs raw COPY and pg_dump --format=custom, gzip 1 and 6',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const preset = ctx.quick ? 'small' : 'finland';
    const url = `${SERVER}/seedline_bench_extract${ctx.quick ? '_small' : ''}`;
    const rows = await ensureFixture(url, preset, ctx);
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-extract-'));
    const lines: string[] = [`  ${TABLE} of the ${preset} fixture: ${rows.toLocaleString('en-US')} rows`];
    const problems: string[] = [];
    const bytes = new Map<string, number>();
    /** pg_dump's own CPU seconds per run (a child process: not in the bench's cpuUsage). */
    const dumpCpu: number[] = [];
    try {
      let n = 0;
      const out = () => join(dir, `run-${n++}`);
      const [copy] = await alternate([{ name: 'raw COPY', run: () => rawCopy(url, bytes) }], ctx.rounds, rows, ctx.log);
      const copyRate = best(copy!);
      lines.push(row('raw COPY (text, no gzip)', copy!, rows, bytes.get('raw COPY')!));
      for (const level of LEVELS) {
        const seedline = (workers: number) => async () => {
          const target = out();
          const result = await extract({ source: url, tables: [TABLE], out: target, gzipLevel: level, concurrency: workers, sourceTimezone: 'Europe/Helsinki', progress: 'off' });
          bytes.set(`seedline ${workers}`, result.tables[0]!.compressedBytes);
          await rm(target, { recursive: true, force: true });
          return result.tables[0]!.rows;
        };
        const stats = await alternate(
          [
            { name: 'seedline 1', run: seedline(1) },
            { name: 'seedline 2', run: seedline(2) },
            { name: 'pg_dump', run: () => pgDump(url, level, out(), rows, bytes, dumpCpu) },
          ],
          ctx.rounds,
          rows,
          ctx.log,
        );
        const [one, two, dump] = stats as [RunStats, RunStats, RunStats];
        const dumpCpuThisLevel = dumpCpu.splice(0).slice(1); // without the warm-up
        lines.push(`  gzip level ${level}:`);
        lines.push(row('  seedline, 1 worker', one, rows, bytes.get('seedline 1')!) + cpuPerRow(one.cpuSeconds, rows));
        lines.push(row('  seedline, 2 workers', two, rows, bytes.get('seedline 2')!) + cpuPerRow(two.cpuSeconds, rows));
        lines.push(row('  pg_dump -Fc', dump, rows, bytes.get('pg_dump')!, false) + cpuPerRow(dumpCpuThisLevel, rows));
        lines.push(
          `    ratios (median of per-round ratios): seedline/pg_dump ${roundRatio(one, dump).toFixed(2)} (1 worker), ${roundRatio(two, dump).toFixed(2)} (2 workers);` +
            ` seedline/raw COPY ${(medianOf(one.rates) / medianOf(copy!.rates)).toFixed(2)}, ${(medianOf(two.rates) / medianOf(copy!.rates)).toFixed(2)} (medians)`,
        );
        lines.push(
          `    ratios (best runs): seedline/pg_dump ${(best(one) / best(dump)).toFixed(2)} (1 worker), ${(best(two) / best(dump)).toFixed(2)} (2 workers);` +
            ` seedline/raw COPY ${(best(one) / copyRate).toFixed(2)}, ${(best(two) / copyRate).toFixed(2)}`,
        );
        for (const s of [one, two]) if (s.peakRss > 300 * 1024 * 1024) problems.push(`${s.name} at gzip ${level}: peak RSS ${formatMB(s.peakRss)} (limit 300 MB)`);
      }
      return { lines, problems };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/**
 * The runs of one round are adjacent in time, so their ratio cancels most of what other
 * processes on a shared machine do; the median of those ratios is the figure to trust.
 */
function roundRatio(a: RunStats, b: RunStats): number {
  return medianOf(a.rates.map((rate, i) => rate / b.rates[i]!));
}

/** Median CPU (all threads of the process) per row, in µs. */
function cpuPerRow(cpuSeconds: readonly number[], rows: number): string {
  return cpuSeconds.length ? `  CPU ${((medianOf(cpuSeconds) / rows) * 1e6).toFixed(1)} µs/row` : '';
}

/** Rows/s of the best run; MB/s of what it wrote (the dump, or COPY's text) in that run. */
function row(name: string, stats: RunStats, rows: number, outBytes: number, rss = true): string {
  const rate = best(stats);
  const mbPerSecond = outBytes / 1024 / 1024 / (rows / rate);
  return `  ${name.padEnd(30)} ${formatRate(rate)} rows/s ${mbPerSecond.toFixed(1).padStart(7)} MB/s  output ${formatMB(outBytes).padStart(9)}${rss ? `  peak RSS ${formatMB(stats.peakRss)}` : '  (RSS: own process)'}`;
}

async function ensureFixture(url: string, preset: string, ctx: BenchContext): Promise<number> {
  await ensureDatabase(url);
  const count = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return Number((await client.query(`SELECT count(*) AS n FROM dbo."Messages"`)).rows[0].n);
    } catch {
      return 0;
    } finally {
      await client.end();
    }
  };
  const found = await count();
  if (found > 0) return found;
  ctx.log(`loading the ${preset} fixture into ${url} (once; about a minute for finland) ...`);
  await createFixture({ url, preset, progress: 'lines' });
  return count();
}

/** What the server can hand out: COPY of the same rows in key order, bytes counted and dropped. */
async function rawCopy(url: string, bytes: Map<string, number>): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const stream = client.query(copyTo(`COPY (SELECT * FROM dbo."Messages" ORDER BY "MessageId") TO STDOUT`));
    let size = 0;
    let lines = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Text COPY escapes newlines inside values: one \n per row.
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    }
    bytes.set('raw COPY', size);
    return lines; // alternate() fails the run when this differs from `expected`
  } finally {
    await client.end();
  }
}

async function pgDump(url: string, level: number, file: string, rows: number, bytes: Map<string, number>, cpu: number[]): Promise<number> {
  // GNU time reports pg_dump's own user + system CPU on stderr.
  const args = ['--dbname', url, '--table', 'dbo."Messages"', '--format=custom', `--compress=${level}`, '--file', file];
  const timed = existsSync('/usr/bin/time');
  const { stderr } = await promisify(execFile)(timed ? '/usr/bin/time' : 'pg_dump', timed ? ['-f', 'cpu %U %S', 'pg_dump', ...args] : args);
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (m) cpu.push(Number(m[1]) + Number(m[2]));
  bytes.set('pg_dump', (await stat(file)).size);
  await rm(file, { force: true });
  return rows;
}
