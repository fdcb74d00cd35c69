/**
 * A dump of every fixture table, made the way a user makes one: `seedline fixture create` into a
 * database of its own, then `seedline extract 'dbo.*'`, both through the real CLI in child
 * processes (their time and peak RSS are logged: fixture loading at scale is itself a figure of
 * issue 19). Cached in os.tmpdir() by preset and seed; the database is dropped once its dump is
 * complete (finland-x10 takes ~10 GB in PostgreSQL).
 *
 * bench/transform.ts keeps its own generated dump of Members and Messages (no database): its
 * figures are compared across sessions. The benches of a whole transform over every module
 * (transform-module, transform-scale) use this one.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { FIXTURE_SCHEMA } from '../fixtures/tables.ts';
import { readManifest } from '../recordfile/index.ts';
import { formatMB, runCli } from './measure.ts';

const ADMIN_URL = process.env['SEEDLINE_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Bump when the dump's content or layout changes, so a stale cache is not reused. */
const DUMP_FORMAT = 1;

export async function cachedExtractedDump(preset: string, seed: number, log: (line: string) => void): Promise<string> {
  const dir = join(tmpdir(), `seedline-bench-extracted-${preset}-seed${seed}-v${DUMP_FORMAT}`);
  if (await readManifest(dir).then((m) => m.complete, () => false)) return dir;

  const database = `seedline_bench_${preset.replace(/[^a-z0-9]/g, '_')}`;
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  const scratch = await mkdtempLike(`${dir}.making-${process.pid}`);
  try {
    if (!(await holdsFixture(database, preset, seed))) {
      log(`loading the ${preset} fixture into ${database} (seedline fixture create) ...`);
      await admin(`DROP DATABASE IF EXISTS ${database}`);
      await admin(`CREATE DATABASE ${database}`);
      const run = await runCli(['fixture', 'create', '--preset', preset, '--seed', String(seed), '--source', url, '--progress', 'lines'], join(scratch, 'usage.json'));
      log(`  fixture ${preset}: ${run.seconds.toFixed(0)} s, ${run.cpuSeconds.toFixed(0)} CPU-s, peak RSS ${formatMB(run.maxRss)}`);
    } else {
      log(`reusing the ${preset} fixture already in ${database}`);
    }
    log(`extracting every table of ${database} (seedline extract 'dbo.*') ...`);
    const out = join(scratch, 'dump');
    const run = await runCli(['extract', '--source', url, '--out', out, '--source-timezone', FIXTURE_TIMEZONE, '--concurrency', '2', '--progress', 'lines', `${FIXTURE_SCHEMA}.*`], join(scratch, 'usage.json'));
    log(`  extract ${preset}: ${run.seconds.toFixed(0)} s, ${run.cpuSeconds.toFixed(0)} CPU-s, peak RSS ${formatMB(run.maxRss)}`);
    await rm(dir, { recursive: true, force: true });
    await rename(out, dir);
    await admin(`DROP DATABASE IF EXISTS ${database}`);
    return dir;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function mkdtempLike(path: string): Promise<string> {
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  return path;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** True when `database` holds a complete fixture of this preset and seed (fixture create marks its schema last, in its transaction). */
async function holdsFixture(database: string, preset: string, seed: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL.replace(/\/[^/]*$/, `/${database}`) });
  try {
    await client.connect();
    const { rows } = await client.query<{ comment: string | null }>(`SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`, [FIXTURE_SCHEMA]);
    const marker = rows[0]?.comment ? (JSON.parse(rows[0].comment) as { preset?: string; seed?: number }) : null;
    return marker?.preset === preset && marker.seed === seed;
  } catch {
    return false; // no such database, or no marker: load it
  } finally {
    await client.end().catch(() => {});
  }
}
