import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkSizer } from './chunk-sizer.ts';
import { extract } from './extract.ts';
import { PostgresSource } from './postgres-source.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

/** Gentle on production: throttle, adaptive statements, statement timeout — on the real server. */
let db: TempDb;
let tmp: string;
const ROWS = 6000;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`INSERT INTO dbo."Messages" SELECT g, 1, 2, 'm' || g, '2012-01-01', NULL, false, false FROM generate_series(1, ${ROWS}) g`);
  // A "table" whose every read takes 2 s: what a statement timeout is for.
  // A heap (no primary key): read in one pass by a cursor, as LoginHistory is.
  await db.sql(`CREATE TABLE public.heap_log AS SELECT g AS id, 'login ' || g AS note FROM generate_series(1, 1000) g`);
  await db.sql(`CREATE VIEW public.slow AS SELECT g AS v FROM generate_series(1, 3) g, LATERAL (SELECT pg_sleep(0.7)) s`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-gentle-'));
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('gentle on production', () => {
  it('--max-rows-per-second holds two workers together to the rate', async () => {
    const started = performance.now();
    const result = await extract({
      source: db.url, tables: ['dbo.Messages'], out: join(tmp, 'throttled'), sourceTimezone: 'UTC', progress: 'off',
      concurrency: 2, minRowsPerRange: 1000, batchRows: 500, maxRowsPerSecond: 3000,
    });
    const seconds = (performance.now() - started) / 1000;
    expect(result.tables[0]!.rows).toBe(ROWS);
    // One second's burst (3,000 rows), then 3,000 more at 3,000/s; unthrottled this takes ~0.2 s.
    expect(seconds).toBeGreaterThanOrEqual(0.9);
  });

  it('asks for more rows per statement while statements are fast', async () => {
    const source = new PostgresSource({ url: db.url, sourceTimezone: 'UTC' });
    await source.connect();
    try {
      const table = await source.describeTable('dbo.Messages');
      const sizer = new ChunkSizer({ startRows: 100, maxRows: 1600 });
      const sizes: number[] = [];
      for await (const b of source.readRange(table, {}, { batchRows: 100, chunkSize: sizer })) sizes.push(b.rows.length);
      expect(sizes.slice(0, 6)).toEqual([100, 200, 400, 800, 1600, 1600]);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(ROWS);
    } finally {
      await source.close();
    }
  });

  it('a table without a primary key is read by fetches that each get the statement timeout, not one timeout for the whole pass', async () => {
    // 10 fetches, 150 ms apart: 1.5 s for the pass, each fetch a few ms. A pass of a large heap
    // (finland-x10's LoginHistory: 6 M rows, minutes) failed like this against the 60 s default.
    const source = new PostgresSource({ url: db.url, statementTimeoutMs: 1000 });
    await source.connect();
    try {
      const table = await source.describeTable('public.heap_log');
      let rows = 0;
      for await (const batch of source.readRange(table, {}, { batchRows: 100 })) {
        rows += batch.rows.length;
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      expect(rows).toBe(1000);
    } finally {
      await source.close();
    }
  });

  it('a statement running past the timeout fails with SOURCE_QUERY instead of holding on', async () => {
    const source = new PostgresSource({ url: db.url, statementTimeoutMs: 300 });
    await source.connect();
    try {
      const table = await source.describeTable('public.slow');
      const read = async () => {
        for await (const _ of source.readRange(table, {}, { batchRows: 10 })) void _;
      };
      await expect(read()).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringContaining('statement timeout') });
    } finally {
      await source.close();
    }
  });
});
