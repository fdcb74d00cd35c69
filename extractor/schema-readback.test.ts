import { readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../common/test-support.ts';
import { extractCommand } from './cli.ts';
import { protocErrors, python } from './protoc.ts';
import { schemaCommand } from './schema-cli.ts';
import { createTempDb, type TempDb } from './test-db.ts';

/**
 * `seedline schema` on a catalog full of awkward names, then `seedline extract --schemas`,
 * then the dump read back by Google's protobuf library in Python (Debian's python3-protobuf)
 * from nothing but the dump: its manifest, its copied .proto files, its parts.
 */
let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  tmp = await mkdtemp(join(tmpdir(), 'seedline-readback-'));
  await db.sql(`
    CREATE SCHEMA ho2;
    CREATE TYPE public.mood AS ENUM ('sad', 'ok');
    CREATE TABLE public."Order Details" (
      "Order ID" int, "1st" text, "Unit Price" numeric(10,2), "Größe" smallint, "zip code" text, zip_code text,
      "Interval" interval, tags text[], "When" timestamp, "Born" date, m public.mood, j jsonb,
      PRIMARY KEY ("Order ID", "1st"));
    INSERT INTO public."Order Details" VALUES
      (1, 'a', 12.50, 42, '00100', 'x', '1 mon 2 days 00:00:01.5', '{x, NULL, ""}', '2021-07-01 12:00', '0044-03-15 BC', 'ok', '{"b": 1, "a": 2}'),
      (2, 'b', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'infinity', NULL, NULL);
    CREATE TABLE public.store (id int PRIMARY KEY, name text);
    CREATE TABLE ho2.store (id int PRIMARY KEY, name text);
    INSERT INTO public.store VALUES (1, 'public one');
    INSERT INTO ho2.store VALUES (1, 'ho2 one'), (2, 'ho2 two');`);
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Every record of every stream, as protobuf's JSON mapping prints it (json_name: the column's own name). */
const READ_DUMP = `
import gzip, json, os, sys
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
dump, descriptors = sys.argv[1], sys.argv[2]
files = descriptor_pb2.FileDescriptorSet()
files.ParseFromString(open(descriptors, 'rb').read())
pool = descriptor_pool.DescriptorPool()
for f in files.file:
    pool.Add(f)
factory = message_factory.MessageFactory(pool)
manifest = json.load(open(os.path.join(dump, 'manifest.json')))
out = {}
for name, stream in manifest['streams'].items():
    cls = factory.GetPrototype(pool.FindMessageTypeByName(stream['messageType']))
    records = out.setdefault(name, [])
    for part in stream['parts']:
        data = gzip.open(os.path.join(dump, part['file'])).read()
        pos = 0
        while pos < len(data):
            size, shift = 0, 0
            while True:
                b = data[pos]; pos += 1
                size |= (b & 0x7f) << shift; shift += 7
                if b < 0x80: break
            msg = cls()
            msg.ParseFromString(data[pos:pos + size])
            pos += size
            records.append(json_format.MessageToDict(msg))
print(json.dumps(out, ensure_ascii=False, sort_keys=True))
`;

describe('awkward names: schema → protoc → extract → Python', () => {
  it('generates files protoc accepts, extracts them with --schemas, and Google’s Python library reads the dump back', async () => {
    const protos = join(tmp, 'protos');
    const tables = ['public.Order Details', 'public.store', 'ho2.store'];
    const schema = await runCommand(schemaCommand(), [...tables, '--source', db.url, '--out', protos, '--source-timezone', 'Europe/Helsinki']);
    expect(schema.stdout).toContain('public.Order Details → ');
    const files = (await readdir(protos)).sort();
    expect(files).toEqual(['Order_Details.proto', 'ho2_store.proto', 'public_store.proto']);
    expect(protocErrors(protos, files)).toBe('');

    const dump = join(tmp, 'dump');
    await runCommand(extractCommand(), [...tables, '--source', db.url, '--schemas', protos, '--source-timezone', 'Europe/Helsinki', '--out', dump, '--progress', 'off']);
    const copied = join(dump, 'schemas');
    const descriptors = join(tmp, 'dump.desc');
    const { spawnSync } = await import('node:child_process');
    const protoc = spawnSync('protoc', [`-I${copied}`, `--descriptor_set_out=${descriptors}`, ...(await readdir(copied))], { encoding: 'utf8' });
    expect(protoc.stderr).toBe('');
    const read = JSON.parse(python(READ_DUMP, [dump, descriptors])) as Record<string, Record<string, unknown>[]>;
    expect(Object.keys(read).sort()).toEqual(['Order_Details', 'ho2_store', 'public_store']);
    expect(read.public_store).toEqual([{ id: 1, name: 'public one' }]);
    expect(read.ho2_store).toEqual([
      { id: 1, name: 'ho2 one' },
      { id: 2, name: 'ho2 two' },
    ]);
    expect(read.Order_Details).toEqual([
      {
        'Order ID': 1,
        '1st': 'a',
        'Unit Price': '12.50',
        Größe: 42,
        'zip code': '00100',
        zip_code: 'x',
        Interval: { months: 1, days: 2, microseconds: '1500000' },
        tags: { values: ['x', '', ''], nullIndexes: [1] },
        When: String(Date.UTC(2021, 6, 1, 9) * 1000), // 12:00 in Helsinki's summer time (+3)
        Born: '-0043-03-15',
        m: 'ok',
        j: '{"a": 2, "b": 1}',
      },
      { 'Order ID': 2, '1st': 'b', Born: 'infinity' },
    ]);
  });
});
