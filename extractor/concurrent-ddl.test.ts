import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSeedlineError } from '../common/errors.ts';
import { readManifest } from '../recordfile/index.ts';
import { extract, type ExtractOptions } from './extract.ts';
import { PostgresSource } from './postgres-source.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

/**
 * Another session changes a table the run has not reached yet: TRUNCATE (+ re-insert) or
 * ALTER … TYPE commit a new relation file that an older snapshot sees as empty. The dump
 * must hold the table as the snapshot saw it, or stop and say why — never 0 rows and exit 0.
 */
const MESSAGES = 20_000;
const MEMBERS = 50;
let db: TempDb;
let tmp: string;
let other: pg.Client;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'seedline-ddl-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`
    INSERT INTO dbo."Members" ("MemberId", "UserName", "Gender", "CountryCode", "Credits", "IsDeleted", "RegisteredAt", "ExternalId", "RowVer")
      SELECT g, 'm' || g, 1, 'FI', 0, false, '2010-01-01', gen_random_uuid(), '\\x01' FROM generate_series(1, ${MEMBERS}) g;
    INSERT INTO dbo."Messages" SELECT g, 1, 2, 'message ' || g, '2012-01-01'::timestamp + g * interval '1 second', NULL, false, false
      FROM generate_series(1, ${MESSAGES}) g;
    ANALYZE;`);
  other = new pg.Client({ connectionString: db.url, application_name: 'seedline test ddl' });
  await other.connect();
});
afterEach(async () => {
  await other?.end().catch(() => {});
  await db?.drop();
});

/** Messages first, slowly (throttled, small parts), so Members is read seconds after the snapshot. */
const slowRun = (out: string, extra: Partial<ExtractOptions> = {}): ExtractOptions => ({
  source: db.url,
  tables: ['dbo.Messages', 'dbo.Members'],
  out,
  sourceTimezone: 'UTC',
  progress: 'off',
  maxRowsPerSecond: 8_000,
  batchRows: 500,
  maxPartBytes: 64 * 1024,
  ...extra,
});

async function firstPartCommitted(out: string, run: Promise<unknown>): Promise<void> {
  let settled = false;
  void run.then(() => (settled = true), () => (settled = true));
  for (;;) {
    const parts = await readManifest(out).then((m) => m.streams.Messages?.parts.length ?? 0, () => 0);
    if (parts > 0) return;
    if (settled) throw new Error('the run ended before it committed a part');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('extract against concurrent DDL', () => {
  it('a TRUNCATE + re-insert committed while the run reads another table waits for the dump: the dump holds the rows of its snapshot', async () => {
    const out = join(tmp, `truncate-${Date.now()}`);
    const run = extract(slowRun(out));
    await firstPartCommitted(out, run);
    const ddl = other.query(`SET lock_timeout = '120s'; BEGIN; TRUNCATE dbo."Members";
      INSERT INTO dbo."Members" ("MemberId", "UserName", "Gender", "CountryCode", "Credits", "IsDeleted", "RegisteredAt", "ExternalId", "RowVer")
        VALUES (999, 'new', 1, 'FI', 0, false, '2010-01-01', gen_random_uuid(), '\\x01'); COMMIT`);
    ddl.catch(() => {});
    const result = await run;
    expect(result.complete).toBe(true);
    expect(result.tables.find((t) => t.stream === 'Members')!.rows).toBe(MEMBERS);
    await ddl; // goes through once the dump has let go
    expect((await db.sql('SELECT count(*)::int AS n FROM dbo."Members"')).rows[0].n).toBe(1);
  }, 60_000);

  it('an ALTER … TYPE on a table not reached yet waits for the dump, with two workers reading', async () => {
    const out = join(tmp, `alter-${Date.now()}`);
    const run = extract(slowRun(out, { concurrency: 2, minRowsPerRange: 2_000 }));
    await firstPartCommitted(out, run);
    const ddl = other.query(`SET lock_timeout = '120s'; ALTER TABLE dbo."Members" ALTER COLUMN "Gender" TYPE integer USING "Gender"::integer`);
    ddl.catch(() => {});
    const result = await run;
    expect(result.tables.find((t) => t.stream === 'Members')!.rows).toBe(MEMBERS);
    expect(result.tables.find((t) => t.stream === 'Messages')!.rows).toBe(MESSAGES);
    await ddl;
  }, 60_000);

  it('a TRUNCATE committed between the snapshot and the lock stops the run, naming the table', async () => {
    const out = join(tmp, `race-${Date.now()}`);
    // The TRUNCATE commits after connect() took the snapshot, before the locks are asked for.
    const openSource = (o: ExtractOptions) => {
      const source = new PostgresSource({ url: o.source, sourceTimezone: 'UTC' });
      const lockTables = source.lockTables.bind(source);
      source.lockTables = async (tables, ms) => {
        await other.query('TRUNCATE dbo."Members"');
        return lockTables(tables, ms);
      };
      return source;
    };
    const err = await extract({ ...slowRun(out), maxRowsPerSecond: undefined, openSource }).catch((e: unknown) => e);
    expect(isSeedlineError(err, 'SOURCE_ISOLATION'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/dbo\.Members was rewritten/);
  }, 60_000);

  it('a table held by an exclusive lock: the run stops after --lock-timeout naming the table and the session holding it', async () => {
    const out = join(tmp, `held-${Date.now()}`);
    const pid = (await other.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await other.query('BEGIN; LOCK TABLE dbo."Members" IN ACCESS EXCLUSIVE MODE');
    const started = Date.now();
    const err = await extract({ ...slowRun(out), maxRowsPerSecond: undefined, lockTimeoutMs: 1_000 }).catch((e: unknown) => e);
    await other.query('ROLLBACK');
    expect(isSeedlineError(err, 'SOURCE_LOCKED'), String(err)).toBe(true);
    const message = (err as Error).message;
    expect(message).toMatch(/dbo\.Members/);
    expect(message).toContain(`pid ${pid}`);
    expect(message).toMatch(/holds AccessExclusiveLock/);
    expect(message).toContain('seedline test ddl');
    expect(message).not.toMatch(/cannot reach|firewall/);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
