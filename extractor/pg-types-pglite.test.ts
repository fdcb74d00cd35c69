import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../fixtures/embedded-postgres.ts';
import { PostgresSource } from './postgres-source.ts';
import { createTempDb, type TempDb } from './test-db.ts';
import { protoType, readRows } from './test-read-paths.ts';

/**
 * The embedded PGlite (the demo's database) reads with the row path only (no binary COPY:
 * one backend for every connection). The same table there and on the real server gives
 * the same records: the row path's SQL (interval_send, array_send, ::text) works on both.
 */
const DDL = `
  CREATE TYPE mood AS ENUM ('sad', 'ok');
  CREATE DOMAIN posint AS int CHECK (VALUE > 0);
  CREATE TABLE t (id int PRIMARY KEY, e mood, j json, jb jsonb, iv interval, ta text[], ia posint[], fa float8[], ip inet,
    r int4range, b varbit, o oid, d date, ts timestamp, tz timestamptz);
  INSERT INTO t VALUES
    (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (2, 'ok', '{"b": 1,  "a": 2}', '{"b": 1, "a": 2}', '1 mon -2 days 00:00:00.000001', '{a, NULL, ""}', '[0:1]={1, 2}',
        '{NaN, -0, 1e308}', '10.0.0.1', '[1,5)', '101', 4294967295, '0044-03-15 BC', '2021-07-01 12:00', 'infinity'),
    (3, 'sad', '[]', '[]', '-178000000 years', '{{a}, {b}}', '{}', '{}', '::1/128', 'empty', '', 0, 'infinity', '2021-01-01 12:00', '-infinity');`;

let embedded: EmbeddedPostgres;
let db: TempDb;

beforeAll(async () => {
  embedded = await startEmbeddedPostgres({ dataDir: 'memory://' });
  const client = new pg.Client({ connectionString: embedded.url });
  await client.connect();
  await client.query(DDL);
  await client.end();
  db = await createTempDb();
  await db.sql(DDL);
}, 120_000);

afterAll(async () => {
  await embedded?.stop();
  await db?.drop();
});

async function records(url: string): Promise<string[]> {
  const source = new PostgresSource({ url, sourceTimezone: 'Europe/Helsinki' });
  await source.connect();
  try {
    const t = await source.describeTable('public.t');
    return (await readRows(source, t, protoType(t))).records;
  } finally {
    await source.close();
  }
}

describe('PGlite: the row path gives the real server’s records for the new types', () => {
  it('enum, json, interval, arrays, inet, ranges, bit, oid, dates and infinite timestamps', async () => {
    const server = await records(db.url);
    expect(server).toHaveLength(3);
    expect(await records(embedded.url)).toEqual(server);
  });
});
