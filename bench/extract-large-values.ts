/**
 * Memory of `seedline extract` (the CLI, a process of its own) on tables of few, very large
 * values: 20 rows of 50 MB text and 20 rows of 50 MB bytea (quick: 5 rows of 10 MB). Issue 13
 * item 5: peak RSS must stay under 300 MB plus a small multiple of the largest value, because
 * pages are cut by bytes on the server (postgres-keyset.ts), not only by rows. Both read paths
 * are measured: binary COPY (a UTF8 database) and rows (a SQL_ASCII one, where binary COPY is
 * not used), and tables without a primary key, read with a cursor by rows (in the UTF8
 * database). The databases are created for the run and dropped after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { formatMB, runCli, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';

const SERVER = process.env.SEEDLINE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
/**
 * The bound checked: 300 MB plus this many times the largest value, per read path (measured
 * 12-02: binary COPY 6.2x; rows 8.4x for text and 15.8x for bytea while it came as hex, 5.6-6.2x /
 * 8.4x since it comes as base64; no primary key, by hand on 5 rows, 6.2x / 8.3x, before: all
 * values in one fetch; BENCHMARKS.md).
 */
export const LARGE_VALUE_MULTIPLE = { 'binary COPY': 7, rows: 10, cursor: 10 } as const;

/** Small: what the CLI needs with no large value, the baseline the multiple is measured from. */
const BASELINE = { name: 'SmallBlobs', sqlType: 'text', proto: 'string', key: true, fill: () => `repeat(md5(g::text), 32)` } as const;
const text = (bytes: number) => `repeat(md5(g::text), ${bytes / 32})`;
const bytea = (bytes: number) => `decode(repeat(md5(g::text), ${bytes / 16}), 'hex')`;
/**
 * Tables without a primary key (Heap) are read with a cursor, by rows, on either database: only
 * the UTF8 one has them, and their path is 'cursor' (the row path's conversions, the rows bound).
 */
const TABLES = [
  { name: 'TextBlobs', sqlType: 'text', proto: 'string', key: true, fill: text },
  { name: 'ByteBlobs', sqlType: 'bytea', proto: 'bytes', key: true, fill: bytea },
  { name: 'TextHeap', sqlType: 'text', proto: 'string', key: false, fill: text },
  { name: 'ByteHeap', sqlType: 'bytea', proto: 'bytes', key: false, fill: bytea },
] as const;

export const extractLargeValuesBench: Benchmark = {
  name: 'extract-large',
  description: 'peak RSS of seedline extract on 20 rows of 50 MB text and of 50 MB bytea (both read paths)',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const rows = ctx.quick ? 5 : 20;
    const valueBytes = (ctx.quick ? 10 : 50) * 1024 * 1024;
    const suffix = randomBytes(4).toString('hex');
    const databases = { 'binary COPY': `seedline_bench_large_${suffix}`, rows: `seedline_bench_large_ascii_${suffix}` } as const;
    const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${databases['binary COPY']}`);
    await admin.query(`CREATE DATABASE ${databases.rows} ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-large-'));
    const lines: string[] = [`  ${rows} rows of ${formatMB(valueBytes)} per table; limit 300 MB + ${LARGE_VALUE_MULTIPLE['binary COPY']} (binary COPY) / ${LARGE_VALUE_MULTIPLE.rows} (rows) / ${LARGE_VALUE_MULTIPLE.cursor} (cursor) × ${formatMB(valueBytes)}`];
    const problems: string[] = [];
    try {
      ctx.log(`extract-large: writing ${rows} × ${formatMB(valueBytes)} per table`);
      for (const database of Object.values(databases)) {
        const db = new pg.Client({ connectionString: `${SERVER}/${database}` });
        await db.connect();
        await db.query('CREATE SCHEMA dbo');
        for (const t of [BASELINE, ...TABLES]) {
          if (!t.key && database === databases.rows) continue;
          // NOT NULL without a key: the .proto below has a plain (not optional) Id for every table.
          await db.query(`CREATE TABLE dbo."${t.name}" ("Id" integer ${t.key ? 'PRIMARY KEY' : 'NOT NULL'}, "Value" ${t.sqlType})`);
          // One row per statement: each builds its value in the server's memory.
          for (let g = 1; g <= rows; g++) await db.query(`INSERT INTO dbo."${t.name}" SELECT g, ${t.fill(valueBytes)} FROM (SELECT ${g} AS g) s`);
        }
        await db.query('ANALYZE');
        await db.end();
      }
      for (const t of [BASELINE, ...TABLES]) {
        await writeFile(join(dir, `${t.name}.proto`), `syntax = "proto3";\npackage seedline.legacy;\nmessage ${t.name} {\n  int32 Id = 1;\n  optional ${t.proto} Value = 2;\n}\n`);
      }
      const baselines: Record<string, number> = {};
      for (const t of [BASELINE, ...TABLES]) {
        for (const database of ['binary COPY', 'rows'] as const) {
          if (!t.key && database === 'rows') continue;
          const path = t.key ? database : 'cursor';
          const peaks: number[] = [];
          for (let round = 0; round < ctx.rounds; round++) {
            const config = join(dir, 'config.json');
            await writeFile(config, JSON.stringify({ source: `${SERVER}/${databases[database]}`, tables: [`dbo.${t.name}`], schemasDir: dir, out: join(dir, 'dump'), sourceTimezone: 'UTC' }));
            const run = await runCli(['extract', '--config', config, '--overwrite', '--progress', 'off'], join(dir, 'usage.json'));
            peaks.push(run.maxRss);
          }
          await rm(join(dir, 'dump'), { recursive: true, force: true });
          const peak = Math.max(...peaks);
          if (t === BASELINE) {
            baselines[database] = peak;
            lines.push(`  baseline (${rows} rows of 1 KB), ${path} path: peak RSS ${formatMB(peak)}`);
            continue;
          }
          const multiple = (peak - baselines[database]!) / valueBytes;
          lines.push(`  ${t.name} (${t.sqlType}), ${path} path: peak RSS ${formatMB(peak)} = baseline + ${multiple.toFixed(2)} × the value (runs: ${peaks.map(formatMB).join(', ')})`);
          const limit = 300 * 1024 * 1024 + LARGE_VALUE_MULTIPLE[path] * valueBytes;
          if (peak > limit) problems.push(`${t.name}, ${path} path: peak RSS ${formatMB(peak)} over ${formatMB(limit)}`);
        }
      }
      return { lines, problems };
    } finally {
      await rm(dir, { recursive: true, force: true });
      for (const database of Object.values(databases)) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
      await admin.end();
    }
  },
};
