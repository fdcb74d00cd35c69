import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../common/test-support.ts';
import { readManifest } from '../recordfile/index.ts';
import { extractCommand } from './cli.ts';
import { extract } from './extract.ts';
import { generateSchemas } from './generate-schemas.ts';
import { createTempDb, type TempDb } from './test-db.ts';

/** Partitioned tables, views and `schema.*` patterns on the real server. */
let db: TempDb;
let tmp: string;
let protos: string;

beforeAll(async () => {
  db = await createTempDb();
  tmp = await mkdtemp(join(tmpdir(), 'seedline-parts-'));
  await db.sql(`
    CREATE SCHEMA shop;
    CREATE SCHEMA other;
    CREATE TABLE shop.events (id int, at date, what text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE shop.events_2020 PARTITION OF shop.events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
    CREATE TABLE shop.events_2021 PARTITION OF shop.events FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
    INSERT INTO shop.events SELECT g, CASE WHEN g % 2 = 0 THEN date '2020-06-01' ELSE date '2021-06-01' END, 'e' || g FROM generate_series(1, 25) g;
    CREATE TABLE shop.items (id int PRIMARY KEY, name text);
    INSERT INTO shop.items VALUES (1, 'a'), (2, 'b');
    CREATE VIEW shop.cheap_items AS SELECT id, name FROM shop.items WHERE id < 2;
    CREATE TABLE other.items (id int PRIMARY KEY);`);
  protos = join(tmp, 'protos');
  const notes: string[] = [];
  await generateSchemas({ source: db.url, tables: ['shop.*'], out: protos, onNote: (n) => notes.push(n) });
  expect(notes).toEqual(['shop.*: 2 partitions left out (shop.events_2020, shop.events_2021): their rows are read with shop.events']);
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("partitioned tables, views and 'schema.*'", () => {
  it("'shop.*' is every table and view of the schema; the partitioned table is one stream with every row once, its partitions left out with a note", async () => {
    // other.items shares a name with shop.items: both are schema-qualified, whichever is extracted.
    expect((await readdir(protos)).sort()).toEqual(['cheap_items.proto', 'events.proto', 'shop_items.proto']);
    const out = join(tmp, 'dump');
    const result = await extract({ source: db.url, tables: ['shop.*'], out, schemasDir: protos, progress: 'off', batchRows: 7 });
    expect(result.tables.map((t) => [t.stream, t.rows])).toEqual([
      ['cheap_items', 1],
      ['events', 25],
      ['shop_items', 2],
    ]);
    expect(result.notes).toEqual(['shop.*: 2 partitions left out (shop.events_2020, shop.events_2021): their rows are read with shop.events']);
    const manifest = await readManifest(out);
    expect(manifest.streams.events!.info).toMatchObject({ table: 'shop.events', primaryKey: ['id', 'at'], resumableMidTable: true });
    // A view has no key: one ordered pass.
    expect(manifest.streams.cheap_items!.info).toMatchObject({ table: 'shop.cheap_items', primaryKey: [], resumableMidTable: false });
  });

  it('a partition named next to its partitioned table is refused (its rows would be read twice); naming it alone reads it', async () => {
    await expect(extract({ source: db.url, tables: ['shop.events', 'shop.events_2020'], out: join(tmp, 'twice'), schemasDir: protos, progress: 'off' })).rejects.toMatchObject({
      code: 'USAGE',
      context: { table: 'shop.events_2020' },
    });
    await generateSchemas({ source: db.url, tables: ['shop.events_2020'], out: protos });
    const alone = await extract({ source: db.url, tables: ['shop.events_2020'], out: join(tmp, 'alone'), schemasDir: protos, progress: 'off' });
    expect(alone.tables.map((t) => [t.stream, t.rows])).toEqual([['events_2020', 12]]);
  });

  it('a pattern in the config file works as on the command line; one that matches nothing names itself', async () => {
    const config = join(tmp, 'seedline.json');
    await writeFile(config, JSON.stringify({ source: db.url, schemasDir: 'protos', tables: ['shop.it*'] }));
    const run = await runCommand(extractCommand(), ['--config', config, '--out', join(tmp, 'from-config'), '--progress', 'off']);
    expect(run.stdout).toMatch(/shop_items\s+2 rows/);
    await expect(extract({ source: db.url, tables: ['nope.*'], out: join(tmp, 'none'), schemasDir: protos, progress: 'off' })).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
      context: { table: 'nope.*' },
    });
  });
});
