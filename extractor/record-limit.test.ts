import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RECORD_BYTES as MAX_RECORD_BYTES, readManifest } from '../recordfile/index.ts';
import { extract, type ExtractOptions } from './extract.ts';
import { PostgresSource } from './postgres-source.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

/** Issue 13 item 4: a record no reader would accept is refused by the writer, naming table, key and column. */
let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`INSERT INTO dbo."Members" ("MemberId", "UserName", "Gender", "CountryCode", "Credits", "IsDeleted", "RegisteredAt", "ExternalId", "RowVer", "Presentation")
    SELECT g, 'm' || g, 1, 'FI', 0, false, '2010-01-01', gen_random_uuid(), '\\x01', CASE WHEN g = 2 THEN repeat('x', ${MAX_RECORD_BYTES} + 1) ELSE 'hi' END
      FROM generate_series(1, 3) g`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-limit-'));
});
afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const options = (out: string, extra: Partial<ExtractOptions> = {}): ExtractOptions => ({ source: db.url, tables: ['dbo.Members'], out, sourceTimezone: 'UTC', progress: 'off', ...extra });

/** The row path: the same source without its binary COPY fast path. */
const rowsOnly = (o: ExtractOptions) => {
  const source = new PostgresSource({ url: o.source, sourceTimezone: 'UTC' });
  (source as { readEncoded?: unknown }).readEncoded = undefined;
  return source;
};

describe('a record over the readers\' maximum', () => {
  for (const [path, extra] of [['binary COPY', {}], ['row', { openSource: rowsOnly }]] as const) {
    it(`is refused before it is written (${path} path), naming table, key and column`, async () => {
      const out = join(tmp, path.replace(' ', '-'));
      const err = await extract(options(out, extra)).then(() => null, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'VALUE_TOO_LARGE', context: { table: 'dbo.Members', column: 'Presentation' } });
      expect((err as Error).message).toContain('the row with MemberId = 2');
      const manifest = await readManifest(out);
      expect(manifest.complete).toBe(false);
      expect(manifest.streams.Members!.parts).toEqual([]);
      expect(await readdir(join(out, 'Members'))).toEqual([]);
    }, 120_000);
  }

  it('excluded, the column no longer stops the dump', async () => {
    const out = join(tmp, 'excluded');
    const proto = join(tmp, 'Members.proto');
    const { readFile, writeFile } = await import('node:fs/promises');
    const standard = await readFile(new URL('../schemas/legacy/Members.proto', import.meta.url), 'utf8');
    await writeFile(proto, standard.split('\n').filter((l) => !/ Presentation = /.test(l)).join('\n'));
    const result = await extract(options(out, { tables: [{ name: 'dbo.Members', proto, exclude: ['Presentation'] }] }));
    expect(result.complete).toBe(true);
    expect(result.tables[0]!.rows).toBe(3);
  }, 120_000);
});
