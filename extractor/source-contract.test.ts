import { randomBytes } from 'node:crypto';
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mssqlConnection } from './mssql-config.ts';
import { MssqlSource } from './mssql-source.ts';
import { PostgresSource } from './postgres-source.ts';
import type { ColumnValue, KeyValue, RowBatch, Source, TableInfo } from './source.ts';
import { createTempDb, type TempDb } from './test-db.ts';

/**
 * One contract, every dialect: the same tables (in each dialect's DDL) and the same expected
 * values through the `Source` interface. PostgreSQL always runs (a temporary database);
 * SQL Server runs when MSSQL_URL points at a server where the login may create a database.
 */

interface Fixture {
  readonly schema: string;
  open(options?: { sourceTimezone?: string }): Source;
  teardown(): Promise<void>;
}

interface Dialect {
  readonly title: string;
  readonly enabled: boolean;
  setup(): Promise<Fixture>;
}

const TYPES_COLUMNS = ['id', 'i4', 'i8', 'b', 'n', 'f8', 's', 'ba', 'u', 'd', 'ts', 'tz'];

const postgres: Dialect = {
  title: 'Source contract: postgres',
  enabled: true,
  async setup() {
    const db: TempDb = await createTempDb();
    await db.sql(`
      CREATE TABLE public.types (id int PRIMARY KEY, i4 int, i8 bigint, b boolean, n numeric(38,12), f8 double precision,
        s varchar(20), ba bytea, u uuid, d date, ts timestamp(6), tz timestamptz);
      INSERT INTO public.types VALUES
        (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (2, 0, 0, false, 0, 0, '', '\\x', '00000000-0000-0000-0000-000000000000', '1970-01-01', '1970-01-01 02:00', '1970-01-01 00:00+00'),
        (3, 2147483647, 9223372036854775807, true, 12345678901234567890123456.123456789012, 0.1, 'åäö😀', '\\x00ff10',
            'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '9999-12-31', '9999-12-31 23:59:59.999999', '1969-12-31 23:59:59.999999+00'),
        (4, -2147483648, -9223372036854775808, false, -0.000000000001, -1.5, 'x', '\\x01', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
            '0001-01-01', '1950-06-01 12:00:00.000001', '1900-01-01 00:00:00+02');
      CREATE TABLE public.pairs (a int, b varchar(10), v int NOT NULL, PRIMARY KEY (a, b));
      INSERT INTO public.pairs SELECT g / 7, 'k' || (g % 7), g FROM generate_series(0, 999) g;
      CREATE TABLE public.heap (v int NOT NULL);
      INSERT INTO public.heap SELECT g FROM generate_series(1, 250) g;`);
    return {
      schema: 'public',
      open: (o = {}) => new PostgresSource({ url: db.url, concurrency: 3, ...o }),
      teardown: () => db.drop(),
    };
  },
};

const MSSQL_URL = process.env.MSSQL_URL;

const mssql: Dialect = {
  title: MSSQL_URL ? 'Source contract: mssql' : 'Source contract: mssql (SKIPPED: set MSSQL_URL=mssql://sa:password@host:1433/master?trustServerCertificate=true to run it)',
  enabled: MSSQL_URL !== undefined,
  async setup() {
    const name = `seedline_t_${randomBytes(6).toString('hex')}`;
    const adminPool = new sql.ConnectionPool(mssqlConnection(MSSQL_URL!).config);
    await adminPool.connect();
    await adminPool.request().batch(`CREATE DATABASE [${name}]; ALTER DATABASE [${name}] SET ALLOW_SNAPSHOT_ISOLATION ON;`);
    const url = new URL(MSSQL_URL!);
    url.pathname = `/${name}`;
    const pool = new sql.ConnectionPool(mssqlConnection(url.toString()).config);
    await pool.connect();
    await pool.request().batch(`
      CREATE TABLE dbo.types (id int PRIMARY KEY, i4 int, i8 bigint, b bit, n decimal(38,12), f8 float,
        s nvarchar(20), ba varbinary(10), u uniqueidentifier, d date, ts datetime2(6), tz datetimeoffset(6));
      INSERT INTO dbo.types VALUES
        (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (2, 0, 0, 0, 0, 0, N'', 0x, '00000000-0000-0000-0000-000000000000', '1970-01-01', '1970-01-01T02:00:00', '1970-01-01T00:00:00+00:00'),
        (3, 2147483647, 9223372036854775807, 1, 12345678901234567890123456.123456789012, 0.1, N'åäö😀', 0x00ff10,
            'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '9999-12-31', '9999-12-31T23:59:59.999999', '1969-12-31T23:59:59.999999+00:00'),
        (4, -2147483648, -9223372036854775808, 0, -0.000000000001, -1.5, N'x', 0x01, 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
            '0001-01-01', '1950-06-01T12:00:00.000001', '1900-01-01T00:00:00+02:00');
      CREATE TABLE dbo.pairs (a int NOT NULL, b varchar(10) NOT NULL, v int NOT NULL, PRIMARY KEY CLUSTERED (a, b));
      WITH n AS (SELECT TOP (1000) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) - 1 AS g FROM sys.all_objects a CROSS JOIN sys.all_objects b)
      INSERT INTO dbo.pairs SELECT g / 7, 'k' + CONVERT(varchar(2), g % 7), g FROM n;
      CREATE TABLE dbo.heap (v int NOT NULL);
      WITH n AS (SELECT TOP (250) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS g FROM sys.all_objects)
      INSERT INTO dbo.heap SELECT g FROM n;`);
    await pool.close();
    return {
      schema: 'dbo',
      open: (o = {}) => new MssqlSource({ url: url.toString(), concurrency: 3, ...o }),
      teardown: async () => {
        await adminPool.request().batch(`ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${name}];`).catch(() => {});
        await adminPool.close();
      },
    };
  },
};

const micros = (ms: number, extra = 0) => String(BigInt(ms) * 1000n + BigInt(extra));

async function readAll(source: Source, table: TableInfo, range = {}, batchRows = 100): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const b of source.readRange(table, range, { batchRows })) out.push(b);
  return out;
}

for (const dialect of [postgres, mssql]) {
  describe.skipIf(!dialect.enabled)(dialect.title, () => {
    let fx: Fixture;
    let source: Source;
    const q = (t: string) => `${fx.schema}.${t}`;

    beforeAll(async () => {
      fx = await dialect.setup();
      source = fx.open({ sourceTimezone: 'Europe/Helsinki' });
      await source.connect();
    }, 60_000);

    afterAll(async () => {
      await source?.close();
      await fx?.teardown();
    });

    it('describes columns, kinds and the primary key; a wrong name is TABLE_NOT_FOUND', async () => {
      const t = await source.describeTable(q('types'));
      expect(t.columns.map((c) => c.name)).toEqual(TYPES_COLUMNS);
      expect(t.columns.map((c) => c.kind)).toEqual(['int32', 'int32', 'int64', 'bool', 'decimal', 'double', 'string', 'bytes', 'uuid', 'date', 'timestamp', 'timestamptz']);
      expect(t.primaryKey).toEqual(['id']);
      expect((await source.describeTable(q('pairs'))).primaryKey).toEqual(['a', 'b']);
      expect((await source.listTables()).map((r) => r.name)).toEqual(expect.arrayContaining(['types', 'pairs', 'heap']));
      await expect(source.describeTable(q('typez'))).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    });

    it('reads every type in the shape of the type mapping, NULL distinct from empty, exact at the edges', async () => {
      const t = await source.describeTable(q('types'));
      const rows = (await readAll(source, t)).flatMap((b) => b.rows);
      const named = (r: readonly ColumnValue[]) => Object.fromEntries(t.columns.map((c, i) => [c.name, r[i]]));
      const [nulls, empty, max, min] = rows.map(named);
      expect(Object.values(nulls!).filter((v) => v !== null)).toEqual([1]);
      expect(empty).toMatchObject({ i4: 0, i8: '0', b: false, n: '0.000000000000', f8: 0, s: '', u: '00000000-0000-0000-0000-000000000000', d: '1970-01-01', ts: '0', tz: '0' });
      expect(empty!.ba).toEqual(Buffer.alloc(0));
      expect(max).toMatchObject({
        i4: 2147483647, i8: '9223372036854775807', b: true, n: '12345678901234567890123456.123456789012', f8: 0.1, s: 'åäö😀',
        u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', d: '9999-12-31', ts: micros(Date.UTC(9999, 11, 31, 21, 59, 59, 999), 999), tz: '-1',
      });
      expect(max!.ba).toEqual(Buffer.from([0x00, 0xff, 0x10]));
      expect(min).toMatchObject({
        i4: -2147483648, i8: '-9223372036854775808', n: '-0.000000000001', f8: -1.5, u: 'ffffffff-ffff-ffff-ffff-ffffffffffff', d: '0001-01-01',
        ts: micros(Date.UTC(1950, 5, 1, 10), 1), tz: micros(Date.UTC(1899, 11, 31, 22)),
      });
    });

    it('reads a composite key in order across batch boundaries, each row once', async () => {
      const t = await source.describeTable(q('pairs'));
      const batches = await readAll(source, t, {}, 23); // boundaries fall inside groups of equal `a`
      const keys = batches.flatMap((b) => b.keys);
      expect(keys.length).toBe(1000);
      expect(new Set(keys.map((k) => k.join('|'))).size).toBe(1000);
      const sorted = [...keys].sort((x, y) => Number(x[0]) - Number(y[0]) || (x[1]! < y[1]! ? -1 : x[1]! > y[1]! ? 1 : 0));
      expect(keys).toEqual(sorted);
      // A range read from a key in the middle starts right after it.
      const from = keys[500]!;
      const rest = (await readAll(source, t, { after: from }, 100)).flatMap((b) => b.keys);
      expect(rest).toEqual(keys.slice(501));
    });

    it('plans ranges that cover the table exactly once, read in parallel', async () => {
      const t = await source.describeTable(q('pairs'));
      const ranges = await source.planRanges(t, 4);
      expect(ranges.length).toBeGreaterThan(1);
      expect(ranges[0]!.after).toBeUndefined();
      expect(ranges.at(-1)!.upTo).toBeUndefined();
      const parts = await Promise.all(ranges.map((r) => readAll(source, t, r, 50)));
      const keys: KeyValue[] = parts.flatMap((p) => p.flatMap((b) => b.keys));
      expect(keys.length).toBe(1000);
      expect(new Set(keys.map((k) => k.join('|'))).size).toBe(1000);
    });

    it('counts rows, with the key sum only for a single integer key', async () => {
      const types = await source.describeTable(q('types'));
      expect(await source.countRows!(types)).toEqual({ rows: 4, keySum: '10' });
      const pairs = await source.countRows!(await source.describeTable(q('pairs')));
      expect(pairs.rows).toBe(1000);
      expect(pairs.keySum).toBeUndefined();
    });

    it('reads a table without a primary key in one pass', async () => {
      const t = await source.describeTable(q('heap'));
      expect(t.primaryKey).toEqual([]);
      const batches = await readAll(source, t, {}, 100);
      expect(batches.map((b) => b.rows.length)).toEqual([100, 100, 50]);
      expect(batches.flatMap((b) => b.rows.map((r) => r[0] as number)).sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    });

    it('needs the source time zone for naive timestamps', async () => {
      const bare = fx.open();
      await bare.connect();
      try {
        const t = await bare.describeTable(q('types'));
        await expect(readAll(bare, t)).rejects.toMatchObject({ code: 'USAGE', context: { option: 'source-timezone' } });
      } finally {
        await bare.close();
      }
    });
  });
}
