import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProto } from './legacy-schema.ts';
import { heapFetchRows, PAGE_MAX_BYTES, PostgresSource } from './postgres-source.ts';
import { recordLayout } from './record-layout.ts';
import type { KeyRange, TableInfo } from './source.ts';
import { createTempDb, type TempDb } from './test-db.ts';

/**
 * Issue 13 item 5: a page of a table with large values is bounded by bytes, not only rows.
 * 12 rows of 5 MB asked 1,000 rows at a time came as one 60 MB page; the bound is 8 MB plus one row.
 */
const VALUE = 5 * 1024 * 1024;
const ROWS = 12;
/** 8 MB plus one row: the largest rows hold a text and a bytea value. */
const BOUND = 8 * 1024 * 1024 + 2 * VALUE + 64 * 1024;
let db: TempDb;
let source: PostgresSource;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(`CREATE TABLE public."Blobs" ("Id" integer PRIMARY KEY, "Body" text, "Data" bytea, "Small" varchar(20));
    INSERT INTO public."Blobs" SELECT g, CASE WHEN g % 3 <> 0 THEN repeat(md5(g::text), ${VALUE / 32}) END,
      CASE WHEN g % 2 = 0 THEN decode(repeat(md5(g::text), ${VALUE / 16}), 'hex') END, 's' || g FROM generate_series(1, ${ROWS}) g;
    CREATE TABLE public."HeapBlobs" ("Id" integer, "Body" text, "Data" bytea);
    INSERT INTO public."HeapBlobs" SELECT g, repeat(md5(g::text), ${VALUE / 32}), CASE WHEN g % 2 = 0 THEN decode(repeat(md5(g::text), ${VALUE / 16}), 'hex') END
      FROM generate_series(1, ${ROWS}) g;
    ANALYZE;`);
  source = new PostgresSource({ url: db.url });
  await source.connect();
});
afterAll(async () => {
  await source?.close();
  await db?.drop();
});

const type = (t: TableInfo) => protobuf.parse(generateProto(t), { keepCase: true }).root.lookupType(`seedline.legacy.${t.name}`);

describe('pages of large values', () => {
  for (const range of [{}, { after: ['2'], upTo: ['9'] }] as KeyRange[]) {
    const expected = Array.from({ length: ROWS }, (_, i) => String(i + 1)).filter((k) => (!range.after || Number(k) > Number(range.after[0])) && (!range.upTo || Number(k) <= Number(range.upTo[0])));

    it(`binary COPY path, range ${JSON.stringify(range)}: every page under 8 MB + one row, every row once`, async () => {
      const t = await source.describeTable('public.Blobs');
      const pages = source.readEncoded(t, range, { batchRows: 1000 }, recordLayout(t, type(t))!)!;
      const keys: string[] = [];
      for await (const page of pages) {
        expect(page.bytes.length).toBeLessThan(BOUND);
        keys.push(...page.keys.map((k) => k[0]!));
      }
      expect(keys).toEqual(expected);
    }, 60_000);

    it(`row path, range ${JSON.stringify(range)}: every page under 8 MB + one row, every row once`, async () => {
      const t = await source.describeTable('public.Blobs');
      const keys: string[] = [];
      for await (const page of source.readRange(t, range, { batchRows: 1000 })) {
        const bytes = page.rows.reduce((n, row) => n + row.reduce<number>((m, v) => m + (typeof v === 'string' ? v.length : Buffer.isBuffer(v) ? v.length : 0), 0), 0);
        expect(bytes).toBeLessThan(BOUND);
        keys.push(...page.keys.map((k) => k[0]!));
      }
      expect(keys).toEqual(expected);
    }, 60_000);
  }
});

/** The row path's size of a page: characters of text, bytes of bytea. */
const pageBytes = (rows: readonly (readonly unknown[])[]) =>
  rows.reduce<number>((n, row) => n + row.reduce<number>((m, v) => m + (typeof v === 'string' ? v.length : Buffer.isBuffer(v) ? v.length : 0), 0), 0);

describe('a table without a primary key (one cursor pass)', () => {
  // Before: the cursor fetched the sizer's 1,000 rows at once, all 12 values (90 MB) in one page.
  it('fetches as many rows as fit 8 MB at the largest row seen: one at a time here, every row once', async () => {
    const t = await source.describeTable('public.HeapBlobs');
    const ids: number[] = [];
    for await (const page of source.readRange(t, {}, { batchRows: 1000 })) {
      expect(pageBytes(page.rows)).toBeLessThan(BOUND);
      for (const row of page.rows) {
        ids.push(row[0] as number);
        expect((row[1] as string).length).toBe(VALUE);
        expect(row[2] === null ? null : (row[2] as Buffer).length).toBe((row[0] as number) % 2 === 0 ? VALUE : null);
      }
    }
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
  }, 60_000);

  // Before: the cursor was a protocol-level portal read without a Sync, and the statement
  // timeout ran from its first fetch to its last, the time spent writing between them included:
  // a table that took longer than --statement-timeout to write out could not be extracted.
  it('the statement timeout bounds each fetch, not the whole pass', async () => {
    const slow = new PostgresSource({ url: db.url, statementTimeoutMs: 1500 });
    await slow.connect();
    try {
      const t = await slow.describeTable('public.HeapBlobs');
      const started = performance.now();
      let rows = 0;
      for await (const page of slow.readRange(t, {}, { batchRows: 1000 })) {
        rows += page.rows.length;
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(rows).toBe(ROWS);
      expect(performance.now() - started).toBeGreaterThan(1500);
    } finally {
      await slow.close();
    }
  }, 60_000);

  it('heapFetchRows: the sizer alone without unbounded columns; one row first with them, then 8 MB / the largest row', () => {
    expect(heapFetchRows(1000, false, undefined)).toBe(1000);
    expect(heapFetchRows(1000, false, 50 * 1024 * 1024)).toBe(1000);
    expect(heapFetchRows(1000, true, undefined)).toBe(1);
    expect(heapFetchRows(1000, true, 50 * 1024 * 1024)).toBe(1);
    expect(heapFetchRows(1000, true, PAGE_MAX_BYTES / 4)).toBe(4);
    expect(heapFetchRows(1000, true, 1024)).toBe(1000);
    expect(heapFetchRows(20_000, true, 1024)).toBe(PAGE_MAX_BYTES / 1024);
    expect(heapFetchRows(1000, true, 0)).toBe(1000);
  });
});

