import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateProto, findDrift } from './legacy-schema.ts';
import { PostgresSource } from './postgres-source.ts';
import { rowEncoder } from './row-encoder.ts';
import type { ColumnValue, KeyValue, RowBatch, TableInfo } from './source.ts';
import { createTempDb, type TempDb } from './test-db.ts';

let db: TempDb;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(`
    CREATE TABLE public.types (
      id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, b boolean, n numeric(40,12), m money,
      f4 real, f8 double precision, t text, vc varchar(10), c char(3), ba bytea, u uuid, d date,
      ts timestamp(6), tstz timestamptz);
    INSERT INTO public.types VALUES
      (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (2, 0, 0, 0, false, 0, 0, 0, 0, '', '', '', '\\x', '00000000-0000-0000-0000-000000000000', '1970-01-01', '1970-01-01 02:00', '1970-01-01 00:00+00'),
      (3, -32768, 2147483647, 9223372036854775807, true, 1234567890123456789012345678.123456789012, 92233720368547758.07,
          3.4028235e38, 0.1, E'😀 åäö \\u0001', 'ääääääää😀😀', 'ab', '\\x00ff10', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
          '9999-12-31', '9999-12-31 23:59:59.999999', '1969-12-31 23:59:59.999999+00'),
      (4, 32767, -2147483648, -9223372036854775808, true, -0.000000000001, -1.5, -1.17549435e-38, 1.7976931348623157e308,
          repeat('x', 100000), 'abcdefghij', 'xyz', decode(repeat('ab', 1000), 'hex'), gen_random_uuid(),
          '0001-01-01', '1950-06-01 12:00:00.000001', '1900-01-01 00:00:00+02'),
      (5, 1, 1, 1, false, 1, 1, 1, 1, 'gap', 'gap', 'gap', '\\x01', gen_random_uuid(), '2021-03-28',
          '2021-03-28 03:30:00', '2021-03-28 03:30:00+03'),
      (6, 1, 1, 1, false, 1, 1, 1, 1, 'overlap', 'overlap', 'ovl', '\\x01', gen_random_uuid(), '2021-10-31',
          '2021-10-31 03:30:00', '2021-10-31 00:30:00.5+00');
    CREATE TABLE public.pairs (a int, b text, v int NOT NULL, PRIMARY KEY (a, b));
    INSERT INTO public.pairs SELECT g / 7, 'k' || (g % 7), g FROM generate_series(0, 999) g;
    CREATE TABLE public.heap (v int NOT NULL);
    INSERT INTO public.heap SELECT g FROM generate_series(1, 250) g;
    CREATE TYPE public.pair AS (a int, b text); CREATE TABLE public.odd (id int PRIMARY KEY, j public.pair);`);
});

afterAll(async () => {
  await db?.drop();
});

async function withSource<T>(fn: (s: PostgresSource) => Promise<T>, opts: { concurrency?: number; sourceTimezone?: string } = {}): Promise<T> {
  const source = new PostgresSource({ url: db.url, sourceTimezone: 'Europe/Helsinki', ...opts });
  await source.connect();
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

async function readAll(source: PostgresSource, table: TableInfo, range = {}, batchRows = 100): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const b of source.readRange(table, range, { batchRows })) out.push(b);
  return out;
}

const micros = (ms: number, extra = 0) => String(BigInt(ms) * 1000n + BigInt(extra));

describe('PostgresSource type mapping', () => {
  it('hands out every type in the exact shape of the type mapping, NULL distinct from empty', async () => {
    await withSource(async (source) => {
      const table = await source.describeTable('public.types');
      expect(table.columns.map((c) => c.kind)).toEqual([
        'int32', 'int32', 'int32', 'int64', 'bool', 'decimal', 'decimal', 'float', 'double', 'string', 'string', 'string', 'bytes', 'uuid', 'date', 'timestamp', 'timestamptz',
      ]);
      const rows = (await readAll(source, table)).flatMap((b) => b.rows);
      const byName = (r: readonly ColumnValue[]) => Object.fromEntries(table.columns.map((c, i) => [c.name, r[i]]));
      const [nulls, empty, max, min, gap, overlap] = rows.map(byName);
      expect(Object.values(nulls!).filter((v) => v !== null)).toEqual([1]);
      expect(empty).toMatchObject({ i2: 0, i8: '0', b: false, n: '0.000000000000', t: '', vc: '', c: '   ', ts: '0', tstz: '0' });
      expect(empty!.ba).toEqual(Buffer.alloc(0));
      expect(max).toMatchObject({
        i2: -32768,
        i4: 2147483647,
        i8: '9223372036854775807',
        n: '1234567890123456789012345678.123456789012', // beyond double precision, exact
        m: '92233720368547758.07',
        f4: 3.4028234663852886e38,
        f8: 0.1,
        t: '😀 åäö \u0001',
        vc: 'ääääääää😀😀',
        c: 'ab ',
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        d: '9999-12-31',
        ts: micros(Date.UTC(9999, 11, 31, 21, 59, 59, 999), 999), // Helsinki +02 in winter
        tstz: '-1',
      });
      expect(max!.ba).toEqual(Buffer.from([0x00, 0xff, 0x10]));
      expect(min).toMatchObject({
        i8: '-9223372036854775808',
        n: '-0.000000000001',
        f8: 1.7976931348623157e308,
        d: '0001-01-01',
        ts: micros(Date.UTC(1950, 5, 1, 10, 0, 0, 0), 1), // before 1970, to the microsecond
        tstz: micros(Date.UTC(1899, 11, 31, 22)),
      });
      expect((min!.t as string).length).toBe(100000);
      expect((min!.ba as Buffer).length).toBe(1000);
      // 03:30 does not exist in Helsinki on 2021-03-28 (03:00 → 04:00): PostgreSQL reads it with the
      // offset before the jump (+02), i.e. as 04:30 EEST = 01:30 UTC.
      expect(gap!.ts).toBe(micros(Date.UTC(2021, 2, 28, 1, 30)));
      expect(gap!.tstz).toBe(micros(Date.UTC(2021, 2, 28, 0, 30)));
      // 03:30 happens twice on 2021-10-31: PostgreSQL takes standard time (+02) → 01:30 UTC.
      expect(overlap!.ts).toBe(micros(Date.UTC(2021, 9, 31, 1, 30)));
      expect(overlap!.tstz).toBe(micros(Date.UTC(2021, 9, 31, 0, 30, 0, 500)));
    });
  });

  it('keeps NULL vs empty through a generated .proto and back', async () => {
    await withSource(async (source) => {
      const table = await source.describeTable('public.types');
      const root = protobuf.parse(generateProto(table), { keepCase: true }).root;
      const type = root.lookupType('seedline.legacy.types');
      expect(findDrift(table, type)).toEqual([]);
      const rows = (await readAll(source, table)).flatMap((b) => b.rows);
      const encode = rowEncoder(table.columns, type);
      const decoded = rows.map((r) => type.toObject(type.decode(encode(r)), { longs: String, bytes: Buffer }));
      expect(Object.keys(decoded[0]!)).toEqual(['id']);
      expect(decoded[1]).toMatchObject({ t: '', vc: '', i4: 0, b: false, ts: '0' });
      expect('ba' in decoded[1]!).toBe(true);
      expect(decoded[2]).toMatchObject({ i8: '9223372036854775807', n: '1234567890123456789012345678.123456789012', t: '😀 åäö \u0001' });
    });
  });

  it('refuses a column without a mapping, naming table and column', async () => {
    await withSource(async (source) => {
      const table = await source.describeTable('public.odd');
      const read = readAll(source, table);
      await expect(read).rejects.toMatchObject({ code: 'UNSUPPORTED_TYPE', context: { table: 'public.odd', column: 'j' } });
    });
  });

  it('needs the source time zone for naive timestamps', async () => {
    const source = new PostgresSource({ url: db.url });
    await source.connect();
    try {
      const table = await source.describeTable('public.types');
      await expect(readAll(source, table)).rejects.toMatchObject({ code: 'USAGE', context: { option: 'source-timezone' } });
    } finally {
      await source.close();
    }
  });
});

describe('PostgresSource keyset pagination', () => {
  it('reads a composite key in order across batch boundaries, each row once', async () => {
    await withSource(async (source) => {
      const table = await source.describeTable('public.pairs');
      expect(table.primaryKey).toEqual(['a', 'b']);
      const batches = await readAll(source, table, {}, 7 * 3 + 2); // boundaries fall inside a group of equal `a`
      expect(batches.length).toBe(Math.ceil(1000 / 23));
      const keys = batches.flatMap((b) => b.keys);
      expect(keys.length).toBe(1000);
      expect(new Set(keys.map((k) => k.join('|'))).size).toBe(1000);
      const sorted = [...keys].sort((x, y) => Number(x[0]) - Number(y[0]) || (x[1]! < y[1]! ? -1 : x[1]! > y[1]! ? 1 : 0));
      expect(keys).toEqual(sorted);
    });
  });

  it('plans ranges that cover the table exactly, read in parallel in one snapshot', async () => {
    await withSource(
      async (source) => {
        const table = await source.describeTable('public.pairs');
        const ranges = await source.planRanges(table, 4);
        expect(ranges.length).toBe(4);
        expect(ranges[0]!.after).toBeUndefined();
        expect(ranges.at(-1)!.upTo).toBeUndefined();
        // A row inserted after the snapshot is seen by none of the workers.
        await db.sql(`INSERT INTO public.pairs VALUES (100000, 'late', -1)`);
        try {
          const parts = await Promise.all(ranges.map((r) => readAll(source, table, r, 50)));
          const keys: KeyValue[] = parts.flatMap((p) => p.flatMap((b) => b.keys));
          expect(keys.length).toBe(1000);
          expect(new Set(keys.map((k) => k.join('|'))).size).toBe(1000);
        } finally {
          await db.sql(`DELETE FROM public.pairs WHERE a = 100000`);
        }
      },
      { concurrency: 3 },
    );
  });

  it('reads a table without a primary key in one pass', async () => {
    await withSource(async (source) => {
      const table = await source.describeTable('public.heap');
      expect(table.primaryKey).toEqual([]);
      const batches = await readAll(source, table, {}, 100);
      expect(batches.map((b) => b.rows.length)).toEqual([100, 100, 50]);
      expect(batches.flatMap((b) => b.rows.map((r) => r[0])).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    });
  });
});
