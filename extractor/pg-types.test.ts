import type protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDrift, generateProto } from './legacy-schema.ts';
import { PostgresSource } from './postgres-source.ts';
import type { TableInfo } from './source.ts';
import { createTempDb, type TempDb } from './test-db.ts';
import { protoType, readEncoded, readRows } from './test-read-paths.ts';

/**
 * The PostgreSQL types beyond the core mapping, each at its edges on the real server: what
 * the record holds (decoded with protobufjs), the same bytes from the row path and the binary
 * COPY path, and the generated .proto (type, SQL type in the comment).
 */
let db: TempDb;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(`
    CREATE EXTENSION IF NOT EXISTS hstore;
    CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'with space', 'quo''te', 'åäö😀');
    CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
    CREATE DOMAIN public.doc AS jsonb;
    CREATE DOMAIN public.tags AS text[];
    CREATE DOMAIN public.feeling AS public.mood;
    CREATE DOMAIN public.outer_int AS public.posint;
    CREATE TABLE public.kinds (
      id int PRIMARY KEY, e public.mood, j json, jb jsonb, iv interval, tv tsvector, tq tsquery, x xml,
      ip inet, net cidr, mac macaddr, mac8 macaddr8, b3 bit(3), vb varbit, r int4range, tr tstzrange, dr daterange,
      mr int4multirange, h hstore, dj public.doc, de public.feeling, di public.outer_int, o oid, rc regclass, x32 xid,
      lsn pg_lsn, tm time, tmz timetz, pt point, d date);
    CREATE TABLE public.arrays (
      id int PRIMARY KEY, ta text[], ia int[], sa smallint[], la bigint[], ba boolean[], fa real[], da double precision[],
      ya bytea[], va varchar(5)[], ca char(2)[], na numeric[], ua uuid[], ea public.mood[], pa public.posint[], dt public.tags,
      dta date[], tsa timestamptz[], ja jsonb[]);
    INSERT INTO public.kinds VALUES
      (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (2, 'sad', '{"b": 1,  "a": [1, 2.50]}', '{"b": 1,  "a": [1, 2.50], "a": "dup"}', '0', '', '', '', '0.0.0.0', '0.0.0.0/0',
          '00:00:00:00:00:00', '00:00:00:00:00:00:00:00', '000', '', 'empty', 'empty', 'empty', '{}', '', 'null', 'sad', 1, 0,
          'pg_class', '0', '0/0', '00:00', '00:00+00', '(0,0)', '0001-01-01'),
      (3, 'åäö😀', '"\\u00e5 ä 😀"', '"\\u00e5 ä 😀"', '178000000 years 1 mon -2 days 03:04:05.000006', 'a:1A fat:2,4 cat',
          'fat & !rat', '<a x="1">å&amp;</a>', '2001:db8::1/64', '2001:db8::/32', 'FF:ff:00:11:22:33', '08:00:2b:01:02:03:04:05',
          '101', '1010101010101', '[1,10)', '[2021-03-28 01:00+00,infinity)', '(,2020-01-01]', '{[1,3), [5,7)}',
          '"a"=>"1", "b"=>NULL, "k y"=>"v\\"q"', '{"z": {"y": [true, false, null]}}', 'quo''te', 2147483647, 4294967295,
          'public.kinds', '4294967295', 'FFFFFFFF/FFFFFFFF', '24:00:00', '23:59:59.999999-15:59', '(-1.5,1e+300)', '0044-03-15 BC'),
      (4, 'with space', '[]', '[]', '-178000000 years -2147483648 days -2562047788:00:54.775807', 'x', 'x', '<!-- c -->',
          '255.255.255.255/32', '10.1.0.0/16', 'ff:ff:ff:ff:ff:ff', 'ff:ff:ff:ff:ff:ff:ff:ff', '111', '0', '(,)', '(,)', '[-infinity,infinity]',
          '{(,)}', '"k"=>"v"', '{}', 'ok', 2, 1, '-', '1', '0/1', '23:59:59.999999', '00:00-15:59', '(0,-0)', '0001-12-31 BC'),
      (5, 'ok', ' {} ', '1e3', '1 mon -1 day', 'x', 'x', 'x', '::', '::/0', '01:02:03:04:05:06', '01:02:03:04:05:06:07:08', '001', '1',
          '[0,0]', NULL, NULL, NULL, NULL, '1.0', NULL, 3, 12, NULL, NULL, NULL, NULL, NULL, NULL, '10000-01-01'),
      (6, NULL, NULL, NULL, '2147483647 days 2562047788:00:54.775807', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'infinity'),
      (7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-infinity'),
      (8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
          NULL, NULL, NULL, NULL, NULL, NULL, NULL, '5874897-12-31');
    INSERT INTO public.arrays VALUES
      (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
      (3, '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}',
          '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}'),
      (4, '{"", NULL, "NULL", "a,b", "q\\"", "åäö😀"}', '{0, NULL, -2147483648, 2147483647}', '{-32768, 32767, NULL}',
          '{-9223372036854775808, 9223372036854775807, 0}', '{t, f, NULL}', '{NaN, -0, Infinity, -Infinity, 3.4028235e38, 1e-45}',
          '{0.1, -0, NaN, 1.7976931348623157e308}', ARRAY['\\x'::bytea, '\\x00ff', NULL], '{"äbc", "", NULL}', '{"a", "ab", NULL}',
          '{0.10, NaN, -1e-20, NULL}', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11, NULL}', '{sad, "with space", NULL}', '{1, NULL, 2147483647}',
          '{x, NULL}', '{2021-03-28, 0044-03-15 BC, infinity, NULL}', '{2021-03-28 01:00+00, -infinity, NULL}', ARRAY['{"b": 1, "a": 2}'::jsonb, NULL]),
      (5, '{{a, b}, {NULL, d}}', '[0:2]={1, 2, 3}', '{{{1}}, {{2}}}', '[-5:-5]={7}', '{{t}}', '{1.5}', '{-1.5}', '{"\\\\x01"}', '{x}', '{x}',
          '{1}', '{}', '{ok}', '[3:3]={5}', '{{a}}', '{}', '{}', '{}');
    CREATE TABLE public.chars (k char(3) PRIMARY KEY, a char(3)[]);
    INSERT INTO public.chars VALUES ('a', '{"a", "ab "}'), ('ab', NULL), ('abc', '{abc}'), ('b', '{}');`);
});

afterAll(async () => {
  await db?.drop();
});

async function both(table: string, zone = 'Europe/Helsinki'): Promise<{ t: TableInfo; type: protobuf.Type; proto: string; values: Record<string, unknown>[] }> {
  const source = new PostgresSource({ url: db.url, sourceTimezone: zone });
  await source.connect();
  try {
    const t = await source.describeTable(table);
    const type = protoType(t);
    expect(findDrift(t, type)).toEqual([]);
    const encoded = await readEncoded(source, t, type);
    expect(encoded).toEqual(await readRows(source, t, type));
    const values = encoded.records.map((hex) => type.toObject(type.decode(Buffer.from(hex, 'hex')), { longs: String, bytes: String, arrays: false, defaults: false }));
    return { t, type, proto: generateProto(t), values };
  } finally {
    await source.close();
  }
}

/** The values of one column, row by row (absent: undefined). */
const column = (values: Record<string, unknown>[], name: string) => values.map((v) => v[name]);

describe('PostgreSQL types beyond the core mapping: both read paths, the same bytes, exact values', () => {
  it('enum, json, jsonb, text forms, domains and oid-like types', async () => {
    const { t, values } = await both('public.kinds');
    expect(column(values, 'e')).toEqual([undefined, 'sad', 'åäö😀', 'with space', 'ok', undefined, undefined, undefined]);
    // json: the text as stored; jsonb: the server's normalized text (duplicate keys: the last wins).
    expect(column(values, 'j').slice(1, 5)).toEqual(['{"b": 1,  "a": [1, 2.50]}', '"\\u00e5 ä 😀"', '[]', ' {} ']);
    expect(column(values, 'jb').slice(1, 5)).toEqual(['{"a": "dup", "b": 1}', '"å ä 😀"', '[]', '1000']);
    expect(column(values, 'tv').slice(1, 3)).toEqual(['', "'a':1A 'cat' 'fat':2,4"]);
    expect(column(values, 'tq').slice(2, 3)).toEqual(["'fat' & !'rat'"]);
    expect(column(values, 'x').slice(1, 4)).toEqual(['', '<a x="1">å&amp;</a>', '<!-- c -->']);
    expect(column(values, 'ip').slice(1, 5)).toEqual(['0.0.0.0/32', '2001:db8::1/64', '255.255.255.255/32', '::/128']);
    expect(column(values, 'net').slice(1, 5)).toEqual(['0.0.0.0/0', '2001:db8::/32', '10.1.0.0/16', '::/0']);
    expect(column(values, 'mac').slice(2, 3)).toEqual(['ff:ff:00:11:22:33']);
    expect(column(values, 'mac8').slice(2, 3)).toEqual(['08:00:2b:01:02:03:04:05']);
    expect(column(values, 'b3').slice(1, 5)).toEqual(['000', '101', '111', '001']);
    expect(column(values, 'vb').slice(1, 5)).toEqual(['', '1010101010101', '0', '1']);
    expect(column(values, 'r').slice(1, 5)).toEqual(['empty', '[1,10)', '(,)', '[0,1)']);
    expect(column(values, 'tr').slice(2, 4)).toEqual(['["2021-03-28 01:00:00+00",infinity)', '(,)']);
    expect(column(values, 'dr').slice(2, 4)).toEqual(['(,2020-01-02)', '[-infinity,infinity]']);
    expect(column(values, 'mr').slice(1, 4)).toEqual(['{}', '{[1,3),[5,7)}', '{(,)}']);
    expect(column(values, 'h').slice(1, 4)).toEqual(['', '"a"=>"1", "b"=>NULL, "k y"=>"v\\"q"', '"k"=>"v"']);
    expect(column(values, 'dj').slice(1, 5)).toEqual(['null', '{"z": {"y": [true, false, null]}}', '{}', '1.0']);
    expect(column(values, 'de').slice(1, 5)).toEqual(['sad', "quo'te", 'ok', undefined]);
    expect(column(values, 'di').slice(1, 5)).toEqual([1, 2147483647, 2, 3]);
    expect(column(values, 'o').slice(1, 5)).toEqual(['0', '4294967295', '1', '12']);
    expect(column(values, 'rc').slice(1, 4)).toEqual(['pg_class', 'kinds', '-']);
    expect(column(values, 'x32').slice(1, 4)).toEqual(['0', '4294967295', '1']);
    expect(column(values, 'lsn').slice(1, 4)).toEqual(['0/0', 'FFFFFFFF/FFFFFFFF', '0/1']);
    expect(column(values, 'tm').slice(1, 4)).toEqual(['00:00:00', '24:00:00', '23:59:59.999999']);
    expect(column(values, 'tmz').slice(1, 4)).toEqual(['00:00:00+00', '23:59:59.999999-15:59', '00:00:00-15:59']);
    expect(column(values, 'pt').slice(1, 4)).toEqual(['(0,0)', '(-1.5,1e+300)', '(0,-0)']);
    const kinds = Object.fromEntries(t.columns.map((c) => [c.name, c.kind]));
    expect(kinds).toMatchObject({ e: 'string', j: 'string', jb: 'string', iv: 'interval', de: 'string', di: 'int32', o: 'int64', x32: 'int64', d: 'date' });
  });

  it('masked (hex text and digest) and non-optional fields of these columns: the same bytes on both paths', async () => {
    const source = new PostgresSource({ url: db.url, sourceTimezone: 'UTC' });
    await source.connect();
    try {
      const t = await source.describeTable('public.kinds');
      const columns = t.columns.filter((c) => c.name !== 'id' && c.kind !== 'interval').map((c) => c.name);
      const mask = Object.fromEntries(columns.map((c) => [c, 'sha256']));
      for (const type of ['string', 'bytes']) {
        const retype = (p: string) => p.replace(/^(\s*(?:optional )?)\w+ (\w+) =/gm, (line, pre: string, name: string) => (columns.includes(name) ? `${pre}${type} ${name} =` : line));
        const proto = protoType(t, retype);
        const encoded = await readEncoded(source, t, proto, mask);
        expect(encoded).toEqual(await readRows(source, t, proto, mask));
      }
      const plain = protoType(t, (p) => p.replace(/optional /g, ''));
      expect(await readEncoded(source, t, plain)).toEqual(await readRows(source, t, plain));
    } finally {
      await source.close();
    }
  });

  it('interval: months, days and microseconds as the server keeps them, to the extremes', async () => {
    const { values } = await both('public.kinds');
    expect(column(values, 'iv').slice(0, 6)).toEqual([
      undefined,
      {}, // present: 0 months, 0 days, 0 µs (the defaults are not written)
      { months: 2136000001, days: -2, microseconds: String(((3 * 60 + 4) * 60 + 5) * 1_000_000 + 6) },
      { months: -2136000000, days: -2147483648, microseconds: '-9223372036854775807' },
      { months: 1, days: -1 },
      { days: 2147483647, microseconds: '9223372036854775807' },
    ]);
  });

  it('date: YYYY-MM-DD, ISO 8601 expanded years outside 1–9999 (astronomical: 1 BC is 0000), infinity as text', async () => {
    const { values } = await both('public.kinds');
    expect(column(values, 'd')).toEqual([undefined, '0001-01-01', '-0043-03-15', '0000-12-31', '+10000-01-01', 'infinity', '-infinity', '+5874897-12-31']);
  });

  it('arrays: repeated values, NULL elements by index, empty present, NULL absent, dimensions and lower bounds', async () => {
    const { values } = await both('public.arrays');
    expect(column(values, 'ta')).toEqual([
      undefined,
      {},
      { values: [''], null_indexes: [0] },
      { values: ['', '', 'NULL', 'a,b', 'q"', 'åäö😀'], null_indexes: [1] },
      { values: ['a', 'b', '', 'd'], null_indexes: [2], dims: [2, 2] },
    ]);
    expect(column(values, 'ia').slice(3)).toEqual([
      { values: [0, 0, -2147483648, 2147483647], null_indexes: [1] },
      { values: [1, 2, 3], lower_bounds: [0] },
    ]);
    expect(column(values, 'sa').slice(3)).toEqual([{ values: [-32768, 32767, 0], null_indexes: [2] }, { values: [1, 2], dims: [2, 1, 1] }]);
    expect(column(values, 'la').slice(3)).toEqual([{ values: ['-9223372036854775808', '9223372036854775807', '0'] }, { values: ['7'], lower_bounds: [-5] }]);
    expect(column(values, 'ba').slice(2)).toEqual([{ values: [false], null_indexes: [0] }, { values: [true, false, false], null_indexes: [2] }, { values: [true], dims: [1, 1] }]);
    const fa = column(values, 'fa')[3] as { values: number[] };
    expect(fa.values.map(String)).toEqual(['NaN', '0', 'Infinity', '-Infinity', String(Math.fround(3.4028235e38)), String(Math.fround(1e-45))]);
    expect(Object.is(fa.values[1], -0)).toBe(true);
    const da = column(values, 'da')[3] as { values: number[] };
    expect(da.values.map(String)).toEqual(['0.1', '0', 'NaN', '1.7976931348623157e+308']);
    expect(column(values, 'ya').slice(3)).toEqual([{ values: ['', 'AP8=', ''], null_indexes: [2] }, { values: ['AQ=='] }]);
    expect(column(values, 'va')[3]).toEqual({ values: ['äbc', '', ''], null_indexes: [2] });
    expect(column(values, 'ca')[3]).toEqual({ values: ['a ', 'ab', ''], null_indexes: [2] });
    // Element types without a binary reader here: the element's text (numeric exact, uuid lowercase, enum label, ...).
    expect(column(values, 'na')[3]).toEqual({ values: ['0.10', 'NaN', '-0.00000000000000000001', ''], null_indexes: [3] });
    expect(column(values, 'ua')[3]).toEqual({ values: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', ''], null_indexes: [1] });
    expect(column(values, 'ea')[3]).toEqual({ values: ['sad', 'with space', ''], null_indexes: [2] });
    expect(column(values, 'pa').slice(3)).toEqual([{ values: [1, 0, 2147483647], null_indexes: [1] }, { values: [5], lower_bounds: [3] }]);
    expect(column(values, 'dt').slice(3)).toEqual([{ values: ['x', ''], null_indexes: [1] }, { values: ['a'], dims: [1, 1] }]);
    expect(column(values, 'dta')[3]).toEqual({ values: ['2021-03-28', '0044-03-15 BC', 'infinity', ''], null_indexes: [3] });
    expect(column(values, 'tsa')[3]).toEqual({ values: ['2021-03-28 01:00:00+00', '-infinity', ''], null_indexes: [2] });
    expect(column(values, 'ja')[3]).toEqual({ values: ['{"a": 2, "b": 1}', ''], null_indexes: [1] });
  });

  it('--source-timezone CET, EET, MET, WET (abbreviations PostgreSQL would read as a fixed offset) are refused, naming the zone to use', async () => {
    for (const [zone, instead] of [['CET', 'Europe/Brussels'], ['EET', 'Europe/Athens'], ['MET', 'Europe/Brussels'], ['WET', 'Europe/Lisbon']] as const) {
      const source = new PostgresSource({ url: db.url, sourceTimezone: zone });
      await expect(source.connect()).rejects.toMatchObject({ code: 'USAGE', context: { option: 'source-timezone', hint: expect.stringContaining(instead) } });
      await source.close();
    }
    // Summer time by the zone's rules: 2021-07-01 12:00 in Europe/Brussels is 10:00 UTC.
    const source = new PostgresSource({ url: db.url, sourceTimezone: 'Europe/Brussels' });
    await source.connect();
    await source.close();
  });

  it('a char(n) key and char(n)[] elements keep every character (a cast to `character` would cut them to one)', async () => {
    const source = new PostgresSource({ url: db.url });
    await source.connect();
    try {
      const t = await source.describeTable('public.chars');
      const type = protoType(t);
      for (const read of [readRows, readEncoded]) {
        const got = await read(source, t, type, {}, {}, 1);
        expect(got.keys).toEqual([['a'], ['ab'], ['abc'], ['b']]); // the key's text, bound back as bpchar
        expect(got.records.map((hex) => type.toObject(type.decode(Buffer.from(hex, 'hex'))).a)).toEqual([
          { values: ['a  ', 'ab '] },
          undefined,
          { values: ['abc'] },
          {},
        ]);
      }
    } finally {
      await source.close();
    }
  });

  it('the generated .proto names each SQL type, the enum labels and the domain, and nests the messages it needs', async () => {
    const { type, proto } = await both('public.arrays');
    expect(proto).toContain('message StringArray {');
    expect(proto).toContain('repeated int32 null_indexes = 2;');
    expect(proto).toMatch(/StringArray ta = 2; \/\/ text\[\] NULL/);
    expect(proto).toMatch(/Int32Array pa = 15; \/\/ posint\[\] NULL/);
    expect(proto).toMatch(/StringArray dt = 16; \/\/ tags NULL, domain over text\[\]/);
    expect(type.fields.ta!.resolvedType!.name).toBe('StringArray');
    const kinds = (await both('public.kinds')).proto;
    expect(kinds).toContain("optional string e = 2; // mood NULL, enum labels 'sad', 'ok', 'with space', 'quo''te', 'åäö😀'");
    expect(kinds).toContain('optional string jb = 4; // jsonb NULL, the server’s normalized text');
    expect(kinds).toContain('optional string ip = 9; // inet NULL, address/prefix (text(inet): /32 and /128 included)');
    expect(kinds).toContain('Interval iv = 5; // interval NULL, months, days, microseconds');
    expect(kinds).toContain('optional int32 di = 22; // outer_int NULL, domain over integer');
    expect(kinds).toContain('optional int64 o = 23; // oid NULL');
  });
});
