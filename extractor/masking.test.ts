import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStream, readManifest } from '../recordfile/index.ts';
import { loadExtractConfig } from './config.ts';
import { extract, type ExtractOptions } from './extract.ts';
import { loadLegacySchema } from './legacy-schema.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

let db: TempDb;
let tmp: string;
let proto: string;
const sha = (s: string) => createHash('sha256').update(s).digest();

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`
    INSERT INTO dbo."Members" VALUES
      (1, 'anna', 'anna@example.fi', '\\xdeadbeef', 2, NULL, 'Helsinki', 'FI', '1.00', false, '2010-01-01', NULL, NULL, gen_random_uuid(), '\\x01', NULL),
      (2, 'bo', NULL, NULL, 1, NULL, '', 'SE', '0.00', false, '2010-01-01', NULL, NULL, gen_random_uuid(), '\\x02', NULL);`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-mask-'));
  // The reviewed .proto for the masked extract: PasswordHash dropped, City carried as the raw digest.
  const standard = await readFile(new URL('../schemas/legacy/Members.proto', import.meta.url), 'utf8');
  proto = join(tmp, 'Members.proto');
  await writeFile(proto, standard.split('\n').filter((l) => !/ PasswordHash = /.test(l)).map((l) => l.replace(/optional string City = /, 'optional bytes City = ')).join('\n'));
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const base = (out: string, spec: Record<string, unknown>): ExtractOptions => ({
  source: db.url, out, sourceTimezone: 'UTC', progress: 'off', tables: [{ name: 'dbo.Members', ...spec }],
});

describe('column masking', () => {
  it('drops one column and hashes others: hex in a string field, the digest in a bytes field, NULL stays NULL', async () => {
    const out = join(tmp, 'masked');
    await extract(base(out, { proto, exclude: ['PasswordHash'], mask: { Email: 'sha256', City: 'sha256' } }));
    const { type } = await loadLegacySchema('Members', tmp);
    const rows: Record<string, unknown>[] = [];
    for await (const b of decodeStream(out, 'Members', (x) => type.toObject(type.decode(x), { bytes: Buffer }))) rows.push(...b);
    expect(rows[0]!.Email).toBe(sha('anna@example.fi').toString('hex'));
    expect(rows[0]!.City).toEqual(sha('Helsinki'));
    expect(rows[0]).not.toHaveProperty('PasswordHash');
    expect(rows[1]).not.toHaveProperty('Email'); // NULL
    expect(rows[1]!.City).toEqual(sha('')); // '' is a value, and hashed like one
    const info = (await readManifest(out)).streams.Members!.info!;
    expect(info.masked).toEqual({ Email: 'sha256', City: 'sha256' });
    const dumpText = await readFile(join(out, 'manifest.json'), 'utf8');
    expect(dumpText).not.toContain('anna@example.fi');
  });

  it('refuses a .proto whose field cannot carry the hash, a masked key, an unknown column or method', async () => {
    const out = join(tmp, 'refused');
    await expect(extract(base(out, { mask: { Gender: 'sha256' } }))).rejects.toMatchObject({ code: 'SCHEMA_DRIFT', context: { column: 'Gender' } });
    await expect(extract(base(out, { mask: { MemberId: 'sha256' } }))).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { column: 'MemberId' } });
    await expect(extract(base(out, { mask: { Emial: 'sha256' } }))).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { column: 'Emial' } });
    await expect(extract(base(out, { mask: { Email: 'md5' } }))).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { column: 'Email' } });
  });

  it('reads "mask" from the config file and refuses a malformed one', async () => {
    const file = join(tmp, 'seedline.json');
    await writeFile(file, JSON.stringify({ tables: [{ name: 'dbo.Members', mask: { Email: 'sha256' } }] }));
    expect((await loadExtractConfig(file)).tables).toEqual([{ name: 'dbo.Members', mask: { Email: 'sha256' } }]);
    await writeFile(file, JSON.stringify({ tables: [{ name: 'dbo.Members', mask: ['Email'] }] }));
    await expect(loadExtractConfig(file)).rejects.toMatchObject({ code: 'CONFIG_INVALID', context: { option: 'tables[0].mask' } });
  });
});
