import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkSizer } from './chunk-sizer.ts';
import { copyPage, copyPlan } from './postgres-copy-page.ts';
import { PostgresSource } from './postgres-source.ts';
import type { PgTableInfo } from './postgres-catalog.ts';
import { recordLayout } from './record-layout.ts';
import { createTempDb, type TempDb } from './test-db.ts';
import { protoType, readEncoded, readRows } from './test-read-paths.ts';

/**
 * The binary COPY path (readEncoded) against the row path (readRange + rowEncoder) on the
 * real server: the same records, byte for byte, and the same keys — for every type at its
 * edges, every field type the drift check allows, optional or not, masked or not.
 */
let db: TempDb;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(`
    CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
    CREATE TABLE public.types (
      id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, b boolean, n numeric(40,12), nn numeric, m money,
      f4 real, f8 double precision, t text, vc varchar(10), c char(3), ba bytea, u uuid, d date,
      ts timestamp(6), tstz timestamptz, dom posint);
    INSERT INTO public.types VALUES
      (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (2, 0, 0, 0, false, 0, 0, 0, 0, 0, '', '', '', '\\x', '00000000-0000-0000-0000-000000000000', '1970-01-01',
          '1970-01-01 02:00', '1970-01-01 00:00+00', 1),
      (3, -32768, 2147483647, 9223372036854775807, true, 1234567890123456789012345678.123456789012, 'NaN', 92233720368547758.07,
          3.4028235e38, 0.1, E'😀 åäö \\u0001 \\\\ '' "', 'ääääääää😀😀', 'ab', '\\x00ff10', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
          '9999-12-31', '9999-12-31 23:59:59.999999', '1969-12-31 23:59:59.999999+00', 2147483647),
      (4, 32767, -2147483648, -9223372036854775808, true, -0.000000000001, 1e-300, -92233720368547758.08, -1.17549435e-38, 1.7976931348623157e308,
          repeat('x', 100000), 'abcdefghij', 'xyz', decode(repeat('ab', 100000), 'hex'), 'ffffffff-ffff-ffff-ffff-ffffffffffff',
          '0001-01-01', '1950-06-01 12:00:00.000001', '1900-01-01 00:00:00+02', 7),
      (5, 1, -1, -1, false, 1, -1, 1, 'NaN', '-Infinity', 'gap', 'gap', 'gap', '\\x01', gen_random_uuid(), '2021-03-28',
          '2021-03-28 03:30:00', '2021-03-28 03:30:00+03', 1),
      (6, -1, 1, 1, false, 1, 1, 1, '-0', '-0', 'overlap', 'overlap', 'ovl', '\\x01', gen_random_uuid(), '0044-03-15 BC',
          '2021-10-31 03:30:00', '4713-01-01 00:00:00+00 BC', 1),
      (7, 1, 1, 4294967296, true, 1, 1, 1, 'Infinity', 'NaN', 'x', 'x', 'x', '\\x', gen_random_uuid(), '10000-01-01',
          '1999-12-31 23:59:59.999999', '200000-12-31 23:59:59.999999+00', 1),
      (8, 1, 1, -4294967297, true, 1, 1, 1, 1, -0.0, 'x', 'x', 'x', '\\x', gen_random_uuid(), '2000-01-01',
          '2000-01-01 00:00:00', '2000-01-01 00:00:00+00', 1);
    CREATE TABLE public.keys (a int, b text, v int NOT NULL, PRIMARY KEY (a, b));
    INSERT INTO public.keys SELECT g / 7, (ARRAY['', '''', '''''', '\\', E'\\\\''', '''); DROP TABLE public.keys; --', 'å😀'])[g % 7 + 1], g
      FROM generate_series(0, 699) g;
    CREATE TABLE public.heap (v int NOT NULL);
    INSERT INTO public.heap SELECT g FROM generate_series(1, 10) g;
    CREATE EXTENSION IF NOT EXISTS citext;
    CREATE TABLE public.ci (id citext PRIMARY KEY, v citext);
    INSERT INTO public.ci VALUES ('b', NULL), ('A', ''), ('Åä''😀', ' x '), ('a''b\', 'y');
    CREATE TABLE public.tskey (k timestamptz PRIMARY KEY, ts timestamp);
    INSERT INTO public.tskey VALUES ('2021-03-28 00:30:00+00', '2021-03-28 03:30'), ('2021-10-31 00:30:00+00', '2021-10-31 03:30'), ('2021-07-01 00:00+00', '2021-07-01 12:00');
    CREATE TABLE public.inf (id int PRIMARY KEY, at timestamptz);
    INSERT INTO public.inf VALUES (1, '2020-01-01'), (2, 'infinity'), (3, '-infinity'), (4, '294276-12-31 23:59:59.999999+00');`);
});

afterAll(async () => {
  await db?.drop();
});

async function withSource<T>(fn: (s: PostgresSource) => Promise<T>, sourceTimezone = 'Europe/Helsinki'): Promise<T> {
  const source = new PostgresSource({ url: db.url, sourceTimezone });
  await source.connect();
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

async function expectSameBytes(table: string, change?: (proto: string) => string, mask: Record<string, string> = {}, zone?: string): Promise<void> {
  await withSource(async (source) => {
    const t = await source.describeTable(table);
    const type = protoType(t, change);
    const rows = await readRows(source, t, type, mask);
    const encoded = await readEncoded(source, t, type, mask);
    expect(rows.records.length).toBeGreaterThan(0);
    expect(encoded).toEqual(rows);
  }, zone);
}

describe('readEncoded: the binary COPY path gives the row path’s bytes', () => {
  it('every type at its edges, NULL absent and empty present (generated .proto: nullable fields optional)', async () => {
    await expectSameBytes('public.types');
    await expectSameBytes('public.ci'); // an extension's type, and a key compared case-insensitively
  });

  it('naive timestamps: cast in the session zone for a zone name, AT TIME ZONE for an abbreviation, as the row path reads them', async () => {
    // EST is an abbreviation and a zone, -5 all year either way (CET, which is not, is refused: pg-types.test.ts).
    for (const zone of ['Europe/Helsinki', 'EST', 'UTC', 'America/St_Johns']) await expectSameBytes('public.types', undefined, {}, zone);
    await expectSameBytes('public.tskey', undefined, {}, 'Europe/Helsinki');
    await withSource(async (source) => {
      const t = await source.describeTable('public.tskey');
      // A timestamptz key keeps its text in UTC (the session zone is left alone for it).
      expect((await readEncoded(source, t, protoType(t))).keys[0]).toEqual(['2021-03-28 00:30:00+00']);
    });
    const plan = (zone: string, isName: boolean, table = 'public.types') =>
      withSource(async (source) => {
        const t = await source.describeTable(table);
        return copyPlan(t as PgTableInfo, recordLayout(t, protoType(t))!, zone, isName);
      }, zone);
    expect((await plan('Europe/Helsinki', true))!.sessionZone).toBe('Europe/Helsinki');
    expect((await plan('EST', false))!.sessionZone).toBeUndefined();
    expect((await plan('Europe/Helsinki', true, 'public.tskey'))!.sessionZone).toBeUndefined();
  });

  it('non-optional fields, where protobufjs leaves out 0, false, "" and +0 but writes int64 text "0"', async () => {
    await expectSameBytes('public.types', (p) => p.replace(/optional /g, ''));
  });

  it('every other field type the drift check allows', async () => {
    const retype = (p: string, field: string, type: string) => p.replace(new RegExp(`^(\\s*(?:optional )?)\\w+ ${field} =`, 'm'), `$1${type} ${field} =`);
    const variants: [string, string][][] = [
      [['i2', 'sint32'], ['i4', 'sfixed32'], ['i8', 'sint64'], ['ts', 'sint64'], ['tstz', 'sfixed64'], ['f4', 'double'], ['dom', 'int64']],
      [['i2', 'int64'], ['i4', 'sint64'], ['i8', 'sfixed64'], ['ts', 'sfixed64'], ['tstz', 'sint64'], ['dom', 'sfixed64']],
      [['i2', 'sfixed64'], ['i4', 'int64'], ['dom', 'sint32']],
    ];
    for (const changes of variants) {
      for (const optional of [true, false]) {
        await expectSameBytes('public.types', (p) => {
          let out = optional ? p : p.replace(/optional /g, '');
          for (const [field, type] of changes) out = retype(out, field, type);
          expect(out).toContain(`${changes[0]![1]} ${changes[0]![0]} =`);
          return out;
        });
      }
    }
  });

  it('masked columns of every type, as hex text and as bytes', async () => {
    const columns = ['i2', 'i4', 'i8', 'b', 'n', 'nn', 'm', 'f4', 'f8', 't', 'vc', 'c', 'ba', 'u', 'd', 'ts', 'tstz', 'dom'];
    const mask = Object.fromEntries(columns.map((c) => [c, 'sha256']));
    const toType = (type: string) => (p: string) => p.replace(/^(\s*(?:optional )?)\w+ (\w+) =/gm, (line, pre: string, name: string) => (name === 'id' ? line : `${pre}${type} ${name} =`));
    await expectSameBytes('public.types', toType('string'), mask);
    await expectSameBytes('public.types', toType('bytes'), mask);
  });

  it('composite keys with quotes, backslashes and SQL in them, read across pages and from the middle', async () => {
    await withSource(async (source) => {
      const t = await source.describeTable('public.keys');
      const type = protoType(t);
      const all = await readEncoded(source, t, type, {}, {}, 23);
      expect(all).toEqual(await readRows(source, t, type, {}, {}, 23));
      expect(all.keys.length).toBe(700);
      expect(new Set(all.keys.map((k) => k.join('\0'))).size).toBe(700);
      // Every key (quotes included) as the place to start after and to stop at.
      for (const i of [0, 1, 2, 3, 4, 5, 6, 350, 698]) {
        const from = all.keys[i]!;
        const upTo = all.keys[Math.min(i + 9, 699)]!;
        const part = await readEncoded(source, t, type, {}, { after: from, upTo }, 4);
        expect(part.keys).toEqual(all.keys.slice(i + 1, Math.min(i + 9, 699) + 1));
      }
      const { rows } = await db.sql('SELECT count(*)::int AS n FROM public.keys');
      expect(rows[0].n).toBe(700);
    });
  });

  it('asks for more rows per statement while statements are fast, as the row path does', async () => {
    await withSource(async (source) => {
      const t = await source.describeTable('public.keys');
      const sizer = new ChunkSizer({ startRows: 25, minRows: 10, maxRows: 200 });
      const sizes: number[] = [];
      for await (const b of source.readEncoded(t, {}, { batchRows: 25, chunkSize: sizer }, recordLayout(t, protoType(t))!)!) sizes.push(b.ends.length);
      expect(sizes).toEqual([25, 50, 100, 200, 200, 125]);
    });
  });

  it('is not offered for a table without a primary key (the row path reads it in one pass)', async () => {
    await withSource(async (source) => {
      const t = await source.describeTable('public.heap');
      expect(source.readEncoded(t, {}, { batchRows: 10 }, recordLayout(t, protoType(t))!)).toBeNull();
    });
  });

  it('infinite timestamps are int64 max and min on both paths; one too late for int64 is an error naming table, key and column', async () => {
    await withSource(async (source) => {
      const t = await source.describeTable('public.inf');
      const type = protoType(t);
      const upTo3 = { upTo: ['3'] };
      const encoded = await readEncoded(source, t, type, {}, upTo3);
      expect(encoded).toEqual(await readRows(source, t, type, {}, upTo3));
      const at = encoded.records.map((hex) => String(type.decode(Buffer.from(hex, 'hex')).toJSON().at));
      expect(at).toEqual(['1577836800000000', '9223372036854775807', '-9223372036854775808']);
      // Masked: the hash of the same text on both paths.
      const masked = (p: string) => p.replace('int64 at', 'string at');
      expect(await readEncoded(source, t, protoType(t, masked), { at: 'sha256' }, upTo3)).toEqual(await readRows(source, t, protoType(t, masked), { at: 'sha256' }, upTo3));
      const late = { after: ['3'], upTo: ['4'] };
      const named = { code: 'SOURCE_QUERY', message: expect.stringContaining('in the row with key (4)'), context: { table: 'public.inf', column: 'at' } };
      await expect(readEncoded(source, t, type, {}, late)).rejects.toMatchObject(named);
      await expect(readRows(source, t, type, {}, late)).rejects.toMatchObject(named);
      await expect(readEncoded(source, t, protoType(t, masked), { at: 'sha256' }, late)).rejects.toMatchObject({ code: 'SOURCE_QUERY', context: { column: 'at' } });
      // The connection is usable again: each statement's output was read to its end.
      expect((await readEncoded(source, t, type, {}, { upTo: ['1'] })).keys).toEqual([['1']]);
    });
  });

  it('a page read ahead that fails while the consumer is busy rejects the read, not the process', async () => {
    await withSource(async (source) => {
      const t = await source.describeTable('public.inf');
      const pages = source.readEncoded(t, { after: ['2'] }, { batchRows: 1 }, recordLayout(t, protoType(t))!)!;
      const first = await pages.next();
      expect(first.value!.keys).toEqual([['3']]);
      await new Promise((resolve) => setTimeout(resolve, 300)); // page 2 (year 294,276) fails meanwhile
      await expect(pages.next()).rejects.toMatchObject({ code: 'SOURCE_QUERY', context: { column: 'at' } });
    });
  });

  it('a COPY page past the statement timeout fails with SOURCE_QUERY, as a row page does', async () => {
    const source = new PostgresSource({ url: db.url, statementTimeoutMs: 300 });
    await source.connect();
    const pg = (await import('pg')).default;
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      const t = await source.describeTable('public.keys');
      // The page waits for the lock until the statement timeout cancels it.
      await locker.query('BEGIN; LOCK TABLE public.keys IN ACCESS EXCLUSIVE MODE');
      await expect(readEncoded(source, t, protoType(t))).rejects.toMatchObject({ code: 'SOURCE_QUERY', message: expect.stringContaining('statement timeout') });
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      await source.close();
    }
  });

  it('COPY data of another shape is an error naming the table, and the connection stays usable', async () => {
    await withSource(async (source) => {
      const t = await source.describeTable('public.keys');
      const info = { ...t, baseTypes: { a: 'int4', b: 'text', v: 'int4' }, castTypes: { a: 'integer', b: 'text', v: 'integer' }, keyTypes: ['integer', 'text'], oid: 0 };
      const plan = copyPlan(info, recordLayout(t, protoType(t))!, undefined)!;
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await expect(copyPage(client, 'COPY (SELECT 1, 2) TO STDOUT (FORMAT binary)', plan, 'public.keys', 10)).rejects.toMatchObject({
          code: 'SOURCE_QUERY',
          message: expect.stringContaining('has 2 fields, expected 5'),
          context: { table: 'public.keys', offset: 19 },
        });
        await expect(copyPage(client, 'COPY (SELECT 1, 2, 3, 4, 5) TO STDOUT', plan, 'public.keys', 10)).rejects.toMatchObject({
          code: 'SOURCE_QUERY',
          context: { table: 'public.keys', offset: 0 },
        });
        expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.end();
      }
    });
  });
});
