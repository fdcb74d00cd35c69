/**
 * Fixture load: createFixture (generate + encode + COPY through pg-copy-streams, one
 * transaction) against `psql \copy` loading the very same rows from ready-made COPY files,
 * in the same run, into two databases on the same server. psql only reads files, so the
 * ratio is what generating on the fly costs over the server's own COPY speed.
 * SEEDLINE_BENCH_FIXTURE_PRESET=finland measures the real size (a few minutes per round).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import pg from 'pg';
import { copyLineEncoder } from '../fixtures/copy-text.ts';
import { createFixture } from '../fixtures/create-fixture.ts';
import { postgresCreateTable, postgresPrimaryKey, qualifiedName } from '../fixtures/ddl.ts';
import { fixtureGenerators } from '../fixtures/generate/index.ts';
import { ensureDatabase } from '../fixtures/pg-target.ts';
import { FIXTURE_SCHEMA, FIXTURE_TABLES } from '../fixtures/tables.ts';
import { alternate, best, formatMB, formatRate, median, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';

const SERVER = process.env.SEEDLINE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
/** createFixture generates while it loads; below this share of psql's rate something regressed. */
const RATIO_FLOOR = 0.5;

export const fixtureLoad: Benchmark = {
  name: 'fixture-load',
  description: 'createFixture (generate + COPY) vs psql \\copy of the same rows from files',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const preset = process.env.SEEDLINE_BENCH_FIXTURE_PRESET ?? (ctx.quick ? 'tiny' : 'small');
    const suffix = randomBytes(4).toString('hex');
    const ours = `${SERVER}/seedline_bench_fixture_${suffix}`;
    const theirs = `${SERVER}/seedline_bench_psql_${suffix}`;
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-fixture-'));
    try {
      await ensureDatabase(ours);
      await ensureDatabase(theirs);
      ctx.log(`writing the ${preset} fixture as COPY files to ${dir} ...`);
      const { script, rows, bytes } = await writeCopyFiles(preset, dir);
      const [seedline, psql] = await alternate(
        [
          { name: 'seedline', run: async () => (await createFixture({ url: ours, preset, progress: 'off' })).totalRows },
          {
            name: 'psql',
            run: async () => {
              await promisify(execFile)('psql', [theirs, '-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-f', script], { maxBuffer: 1 << 24 });
              return rows;
            },
          },
        ],
        ctx.rounds,
        rows,
        ctx.log,
      );
      const problems: string[] = [];
      for (const url of [ours, theirs]) {
        const loaded = await countRows(url);
        if (loaded !== rows) problems.push(`${url.split('/').pop()} holds ${loaded} rows, expected ${rows}`);
      }
      const ratio = best(seedline!) / best(psql!);
      if (ratio < RATIO_FLOOR) problems.push(`createFixture reached ${ratio.toFixed(2)} of psql's rate (floor ${RATIO_FLOOR})`);
      return {
        lines: [
          `  preset ${preset}: ${rows.toLocaleString('en-US')} rows, ${formatMB(bytes)} of COPY text`,
          `  createFixture ${formatRate(best(seedline!))} rows/s best, ${formatRate(median(seedline!))} median (generates while loading)`,
          `  psql \\copy    ${formatRate(best(psql!))} rows/s best, ${formatRate(median(psql!))} median (from files)`,
          `  ratio createFixture/psql: ${ratio.toFixed(2)} (best runs)`,
        ],
        problems,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dropDatabases([ours, theirs]);
    }
  },
};

/** The fixture as one COPY text file per table plus the psql script that loads them like createFixture does. */
async function writeCopyFiles(preset: string, dir: string): Promise<{ script: string; rows: number; bytes: number }> {
  const lines = ['\\set ON_ERROR_STOP on', `CREATE SCHEMA IF NOT EXISTS ${FIXTURE_SCHEMA};`];
  for (const t of FIXTURE_TABLES) lines.push(`DROP TABLE IF EXISTS ${qualifiedName(t, 'postgres')};`);
  let rows = 0;
  let bytes = 0;
  for (const g of fixtureGenerators(preset, 1).generators) {
    const file = join(dir, `${g.table.name}.copy`);
    const out = createWriteStream(file);
    const encode = copyLineEncoder(g.table);
    let chunk = '';
    for (const row of g.generate()) {
      chunk += encode(row);
      rows++;
      if (chunk.length > 1 << 18) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
    out.end(chunk);
    await once(out, 'finish');
    bytes += (await stat(file)).size;
    const columns = g.table.columns.map((c) => `"${c.name}"`).join(', ');
    lines.push(postgresCreateTable(g.table).replace(/ -- [^\n]*/g, ''));
    lines.push(`\\copy ${qualifiedName(g.table, 'postgres')} (${columns}) FROM '${file}'`);
    const pk = postgresPrimaryKey(g.table);
    if (pk) lines.push(pk);
    lines.push(`ANALYZE ${qualifiedName(g.table, 'postgres')};`);
  }
  const script = join(dir, 'load.sql');
  await writeFile(script, `${lines.join('\n')}\n`);
  return { script, rows, bytes };
}

async function countRows(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let total = 0;
    for (const t of FIXTURE_TABLES) total += Number((await client.query(`SELECT count(*) AS n FROM ${qualifiedName(t, 'postgres')}`)).rows[0].n);
    return total;
  } finally {
    await client.end();
  }
}

async function dropDatabases(urls: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await client.connect();
  try {
    for (const url of urls) await client.query(`DROP DATABASE IF EXISTS "${url.split('/').pop()}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** For the brief's contract: the benchmark as one call (name + report lines). */
export async function run(): Promise<{ name: string; lines: string[] }> {
  const result = await fixtureLoad.run({ rounds: 3, quick: false, log: (line) => process.stderr.write(`${line}\n`) });
  return { name: fixtureLoad.name, lines: [...result.lines, ...result.problems.map((p) => `  FAILED: ${p}`)] };
}
