import { readdir, readFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { int64ToBigInt } from '../common/protos.ts';
import { decodeStream, readManifest } from '../recordfile/index.ts';
import { extract, type ExtractOptions } from './extract.ts';
import { loadLegacySchema } from './legacy-schema.ts';
import { PostgresSource } from './postgres-source.ts';
import type { Source } from './source.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

let db: TempDb;
let tmp: string;
const MESSAGES = 3000;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`
    INSERT INTO dbo."Members" VALUES
      (1, 'anna', 'anna@example.fi', '\\xdeadbeef', 2, '1990-05-17', 'Helsinki', 'FI', '10.50', false,
       '2010-01-01 12:00:00.123', '2015-06-30 23:59:59.999', NULL, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '\\x0000000000000001', 'Hei 😀'),
      (2, '', NULL, NULL, 1, NULL, NULL, 'SE', '0.00', true,
       '1900-01-01 00:00:00', NULL, '2020-02-02 02:02:02', '00000000-0000-0000-0000-000000000002', '\\x02', '');
    INSERT INTO dbo."Messages"
      SELECT g, 1 + g % 2, 2 - g % 2, CASE WHEN g % 10 = 0 THEN NULL ELSE 'message ' || g END,
             '2012-01-01 00:00:00'::timestamp + g * interval '1 minute', NULL, g % 3 = 0, false
        FROM generate_series(1, ${MESSAGES}) g;`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-extract-'));
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The URL with a password: trust auth ignores it, and it must appear nowhere in the dump. */
const urlWithPassword = () => db.url.replace('postgres@', 'postgres:s3cret-pw@');

const base = (out: string): ExtractOptions => ({
  source: urlWithPassword(),
  tables: ['dbo.Members', 'dbo.Messages'],
  out,
  sourceTimezone: 'Europe/Helsinki',
  progress: 'off',
});

async function readStream(dir: string, table: string): Promise<Record<string, unknown>[]> {
  const { type } = await loadLegacySchema(table);
  const out: Record<string, unknown>[] = [];
  for await (const batch of decodeStream(dir, table, (b) => type.toObject(type.decode(b), { longs: String, bytes: Buffer }))) out.push(...batch);
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String);
}

describe('extract', () => {
  it('dumps the skeleton tables into streams that read back exactly', async () => {
    const out = join(tmp, 'dump');
    const result = await extract({ ...base(out), batchRows: 100 });
    expect(result.complete).toBe(true);
    expect(result.tables.map((t) => [t.stream, t.rows])).toEqual([['Members', 2], ['Messages', MESSAGES]]);

    const members = await readStream(out, 'Members');
    expect(members[0]).toEqual({
      MemberId: 1, UserName: 'anna', Email: 'anna@example.fi', PasswordHash: Buffer.from('deadbeef', 'hex'), Gender: 2,
      BirthDate: '1990-05-17', City: 'Helsinki', CountryCode: 'FI', Credits: '10.50', // IsDeleted false: the proto3 default, not on the wire
      RegisteredAt: String(Date.UTC(2010, 0, 1, 10, 0, 0, 123) * 1000), LastLoginAt: String(Date.UTC(2015, 5, 30, 20, 59, 59, 999) * 1000),
      ExternalId: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', RowVer: Buffer.from('0000000000000001', 'hex'), Presentation: 'Hei 😀',
    });
    // '' stays present, NULL stays absent.
    expect(members[1]).toMatchObject({ UserName: '', Presentation: '', IsDeleted: true });
    expect('Email' in members[1]! || 'BirthDate' in members[1]! || 'LastLoginAt' in members[1]!).toBe(false);
    // 1900-01-01 00:00 Helsinki was local mean time +01:39:49 in the tz database.
    expect(int64ToBigInt(members[1]!.RegisteredAt as string)).toBe(BigInt(Date.UTC(1899, 11, 31, 22, 20, 11)) * 1000n);

    const messages = await readStream(out, 'Messages');
    expect(messages.map((m) => Number(m.MessageId))).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    expect(messages[9]!.Body).toBeUndefined();
    expect(messages[0]).toMatchObject({ SenderId: 2, RecipientId: 1, Body: 'message 1', SentAt: String(Date.UTC(2011, 11, 31, 22, 1) * 1000) });

    const manifest = await readManifest(out);
    expect(manifest.complete).toBe(true);
    expect(manifest.producer.source).toEqual({ dialect: 'postgres', host: '127.0.0.1', port: 5432, database: db.name });
    expect(manifest.producer.snapshot).toMatchObject({ isolation: 'repeatable read, read only', exportedSnapshot: expect.any(String) });
    expect(manifest.streams.Messages).toMatchObject({ messageType: 'seedline.legacy.Messages', protoFile: 'schemas/Messages.proto' });
    expect(manifest.streams.Messages!.info).toMatchObject({ table: 'dbo.Messages', primaryKey: ['MessageId'], naiveTimestampsZone: 'Europe/Helsinki' });
    expect(manifest.streams.Messages!.parts[0]!.keyRange).toEqual({ first: ['1'], last: [String(MESSAGES)] });
    const everything = (await Promise.all((await filesUnder(out)).filter((f) => f.endsWith('.json') || f.endsWith('.proto')).map((f) => readFile(join(out, f), 'utf8')))).join('');
    expect(everything).not.toContain('s3cret-pw');
  });

  it('leaves out excluded columns (personal data) when the table has its own .proto without them', async () => {
    const out = join(tmp, 'excluded');
    const exclude = ['PasswordHash', 'Email'];
    const spec = { name: 'dbo.Members', exclude };
    await expect(extract({ ...base(out), tables: [spec] })).rejects.toMatchObject({ code: 'SCHEMA_DRIFT', context: { column: 'Email' } });
    const standard = await readFile(new URL('../schemas/legacy/Members.proto', import.meta.url), 'utf8');
    const proto = join(tmp, 'Members.proto');
    await writeFile(proto, standard.split('\n').filter((l) => !/ (PasswordHash|Email) = /.test(l)).join('\n'));
    const result = await extract({ ...base(out), tables: [{ ...spec, proto }] });
    expect(result.complete).toBe(true);
    const { type } = await loadLegacySchema('Members', tmp);
    const rows: Record<string, unknown>[] = [];
    for await (const b of decodeStream(out, 'Members', (x) => type.toObject(type.decode(x)))) rows.push(...b);
    expect(rows[0]).toMatchObject({ MemberId: 1, UserName: 'anna' });
    expect(Object.keys(rows[0]!)).not.toContain('Email');
    expect((await readManifest(out)).streams.Members!.info!.columns).not.toContain('PasswordHash');
  });

  it('refuses to overwrite a complete dump unless asked', async () => {
    const out = join(tmp, 'twice');
    await extract({ ...base(out), tables: ['dbo.Members'] });
    await expect(extract({ ...base(out), tables: ['dbo.Members'] })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
    const again = await extract({ ...base(out), tables: ['dbo.Members'], overwrite: true });
    expect(again.complete).toBe(true);
  });

  it('reads key ranges in parallel into separate parts, every row once', async () => {
    const out = join(tmp, 'parallel');
    const result = await extract({ ...base(out), tables: ['dbo.Messages'], concurrency: 3, minRowsPerRange: 200, batchRows: 128 });
    expect(result.tables[0]!.parts).toBeGreaterThan(1);
    const ids = (await readStream(out, 'Messages')).map((m) => Number(m.MessageId)).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
  });

  it('Ctrl-C leaves only complete parts and an incomplete manifest; --resume finishes without rewriting them', async () => {
    const out = join(tmp, 'interrupted');
    const controller = new AbortController();
    let batches = 0;
    // A real PostgresSource whose reader pulls the plug after a few pages.
    const openSource = (o: ExtractOptions): Source => {
      const real = new PostgresSource({ url: o.source, sourceTimezone: 'Europe/Helsinki' });
      return {
        dialect: real.dialect,
        description: real.description,
        connect: () => real.connect(),
        close: () => real.close(),
        listTables: () => real.listTables(),
        describeTable: (name) => real.describeTable(name),
        planRanges: (table, parts) => real.planRanges(table, parts),
        async *readRange(...args) {
          for await (const b of real.readRange(...args)) {
            yield b;
            if (++batches === 12) controller.abort(new Error('test Ctrl-C'));
          }
        },
      };
    };
    const options = { ...base(out), tables: ['dbo.Messages'], batchRows: 100, maxPartBytes: 4096 };
    await expect(extract({ ...options, openSource, signal: controller.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });

    const stopped = await readManifest(out);
    expect(stopped.complete).toBe(false);
    expect(stopped.streams.Messages!.complete).toBe(false);
    const kept = stopped.streams.Messages!.parts;
    expect(kept.length).toBeGreaterThan(0);
    expect((await filesUnder(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const mtimes = await Promise.all(kept.map(async (p) => (await stat(join(out, p.file))).mtimeMs));

    const resumed = await extract({ ...options, resume: true });
    expect(resumed.complete).toBe(true);
    expect(resumed.tables[0]!.keptParts).toBe(kept.length);
    const after = await readManifest(out);
    for (const [i, p] of kept.entries()) {
      expect(after.streams.Messages!.parts).toContainEqual(p);
      expect((await stat(join(out, p.file))).mtimeMs).toBe(mtimes[i]);
    }
    const ids = (await readStream(out, 'Messages')).map((m) => Number(m.MessageId)).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
  });
});
