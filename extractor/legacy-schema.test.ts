import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extract } from './extract.ts';
import { assertNoDrift, findDrift, generateProto, loadLegacySchema } from './legacy-schema.ts';
import { PostgresSource } from './postgres-source.ts';
import type { TableInfo } from './source.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-drift-'));
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function describe_(name: string): Promise<TableInfo> {
  const source = new PostgresSource({ url: db.url });
  await source.connect();
  try {
    return await source.describeTable(name);
  } finally {
    await source.close();
  }
}

function withColumns(table: TableInfo, change: (cols: TableInfo['columns']) => TableInfo['columns']): TableInfo {
  return { ...table, columns: change(table.columns) };
}

describe('schema drift', () => {
  it('the committed Members and Messages .proto match the skeleton tables', async () => {
    for (const name of ['Members', 'Messages']) {
      const table = await describe_(`dbo.${name}`);
      const schema = await loadLegacySchema(name);
      expect(findDrift(table, schema.type)).toEqual([]);
    }
  });

  it('names a column that is new, missing, of another type or newly nullable', async () => {
    const table = await describe_('dbo.Messages');
    const { type } = await loadLegacySchema('Messages');
    const added = withColumns(table, (c) => [...c, { name: 'Subject', sqlType: 'text', nullable: true, kind: 'string' }]);
    expect(findDrift(added, type).map((d) => d.column)).toEqual(['Subject']);
    const dropped = withColumns(table, (c) => c.filter((x) => x.name !== 'ReadAt'));
    expect(findDrift(dropped, type).map((d) => d.column)).toEqual(['ReadAt']);
    const retyped = withColumns(table, (c) => c.map((x) => (x.name === 'SenderId' ? { ...x, sqlType: 'uuid', kind: 'uuid' as const } : x)));
    expect(findDrift(retyped, type).map((d) => d.column)).toEqual(['SenderId']);
    const widened = withColumns(table, (c) => c.map((x) => (x.name === 'SenderId' ? { ...x, sqlType: 'bigint', kind: 'int64' as const } : x)));
    expect(findDrift(widened, type).map((d) => d.column)).toEqual(['SenderId']);
    const nullable = withColumns(table, (c) => c.map((x) => (x.name === 'SentAt' ? { ...x, nullable: true } : x)));
    expect(findDrift(nullable, type).map((d) => d.column)).toEqual(['SentAt']);
    // NOT NULL where the .proto says optional loses nothing: accepted.
    const stricter = withColumns(table, (c) => c.map((x) => (x.name === 'Body' ? { ...x, nullable: false } : x)));
    expect(findDrift(stricter, type)).toEqual([]);
    expect(() => assertNoDrift(added, { protoPath: 'Messages.proto', messageType: 'seedline.legacy.Messages', type })).toThrowError(
      expect.objectContaining({ code: 'SCHEMA_DRIFT', context: expect.objectContaining({ table: 'dbo.Messages', column: 'Subject' }) }),
    );
  });

  it('extract refuses a drifted table before writing anything', async () => {
    await db.sql(`ALTER TABLE dbo."Messages" ALTER COLUMN "Body" TYPE text, ADD COLUMN "Extra" int`);
    try {
      const out = join(tmp, 'dump');
      await expect(
        extract({ source: db.url, tables: ['dbo.Messages'], out, sourceTimezone: 'Europe/Helsinki', progress: 'off' }),
      ).rejects.toMatchObject({ code: 'SCHEMA_DRIFT', context: { table: 'dbo.Messages', column: 'Extra' } });
      expect(existsSync(out)).toBe(false);
    } finally {
      await db.sql(`ALTER TABLE dbo."Messages" DROP COLUMN "Extra", ALTER COLUMN "Body" TYPE varchar(2000)`);
    }
  });

  it('a missing .proto is SCHEMA_INVALID with a hint to generate one', async () => {
    await expect(loadLegacySchema('Nope', tmp, undefined, 'dbo.Nope')).rejects.toMatchObject({
      code: 'SCHEMA_INVALID',
      context: { table: 'dbo.Nope', hint: expect.stringContaining(`seedline schema dbo.Nope --source <url> --out ${tmp}`) },
    });
  });

  it('generates a .proto that parses, has the SQL type as a comment, and matches its table', async () => {
    const table = await describe_('dbo.Members');
    const text = generateProto(table);
    expect(text).toContain('optional string UserName = 2; // character varying(50) NULL');
    expect(text).toContain('int64 RegisteredAt = 11; // timestamp(3) without time zone NOT NULL');
    const type = protobuf.parse(text, { keepCase: true }).root.lookupType('seedline.legacy.Members');
    expect(findDrift(table, type)).toEqual([]);
  });
});

describe('generateSchemas', () => {
  it('writes one .proto per table that loads and matches, and will not overwrite a reviewed one', async () => {
    const { generateSchemas } = await import('./generate-schemas.ts');
    const out = join(tmp, 'protos');
    const written = await generateSchemas({ source: db.url, tables: ['dbo.Members', 'dbo.Messages'], out });
    expect(written.map((w) => w.file)).toEqual([join(out, 'Members.proto'), join(out, 'Messages.proto')]);
    const table = await describe_('dbo.Messages');
    expect(findDrift(table, (await loadLegacySchema('Messages', out)).type)).toEqual([]);
    await expect(generateSchemas({ source: db.url, tables: ['dbo.Members'], out })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
  });
});
