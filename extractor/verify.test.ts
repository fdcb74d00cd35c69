import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readManifest, writeManifest } from '../recordfile/index.ts';
import { extract } from './extract.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';
import { verifyCommand } from './verify-cli.ts';
import { verifyDump, verifySummary } from './verify.ts';
import { runCommand } from '../common/test-support.ts';

let db: TempDb;
let tmp: string;
let dump: string;
const ROWS = 2000;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`INSERT INTO dbo."Messages" SELECT g, 1, 2, 'body ' || g, '2012-01-01', NULL, false, false FROM generate_series(1, ${ROWS}) g`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-verify-'));
  dump = join(tmp, 'dump');
  await extract({ source: db.url, tables: ['dbo.Messages'], out: dump, sourceTimezone: 'UTC', maxPartBytes: 8192, progress: 'off' });
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A copy of the good dump to damage. */
async function copyOfDump(name: string): Promise<string> {
  const dir = join(tmp, name);
  await cp(dump, dir, { recursive: true });
  return dir;
}

describe('verifyDump', () => {
  it('finds a complete dump sound and agrees with the database, key sum included', async () => {
    const result = await verifyDump(dump, { against: db.url, progress: 'off' });
    expect(result.ok).toBe(true);
    const [s] = result.streams;
    expect(s).toMatchObject({ stream: 'Messages', records: ROWS, problems: [] });
    expect(s!.parts).toBeGreaterThan(2);
    expect(s!.source).toEqual({ table: 'dbo.Messages', rows: ROWS, keySum: { source: String((ROWS * (ROWS + 1)) / 2), dump: String((ROWS * (ROWS + 1)) / 2) } });
  });

  it('names the part whose bytes changed', async () => {
    const dir = await copyOfDump('flipped');
    const part = (await readManifest(dir)).streams.Messages!.parts[1]!;
    const bytes = await readFile(join(dir, part.file));
    bytes[bytes.length - 12]! ^= 0xff;
    await writeFile(join(dir, part.file), bytes);
    const result = await verifyDump(dir, { progress: 'off' });
    expect(result.ok).toBe(false);
    expect(result.streams[0]!.problems).toHaveLength(1);
    expect(result.streams[0]!.problems[0]).toContain(part.file);
  });

  it('names a part whose record count differs from the manifest, and a missing part', async () => {
    const dir = await copyOfDump('miscounted');
    const manifest = await readManifest(dir);
    const parts = manifest.streams.Messages!.parts;
    parts[0] = { ...parts[0]!, records: parts[0]!.records + 1 };
    await writeManifest(dir, manifest);
    await rm(join(dir, parts[2]!.file));
    const problems = (await verifyDump(dir, { progress: 'off' })).streams[0]!.problems;
    expect(problems.some((p) => p.includes(parts[0]!.file) && /holds \d+ records/.test(p))).toBe(true);
    expect(problems.some((p) => p.includes(parts[2]!.file) && p.includes('does not exist'))).toBe(true);
  });

  it('reports a database that no longer matches: fewer rows, or other keys in the same number of rows', async () => {
    const db2 = await createTempDb();
    try {
      await db2.sql(SKELETON_SCHEMA_SQL);
      await db2.sql(`INSERT INTO dbo."Messages" SELECT g, 1, 2, 'b', '2012-01-01', NULL, false, false FROM generate_series(1, 500) g`);
      const dir = join(tmp, 'moving');
      await extract({ source: db2.url, tables: ['dbo.Messages'], out: dir, sourceTimezone: 'UTC', progress: 'off' });
      await db2.sql(`UPDATE dbo."Messages" SET "MessageId" = 10000 WHERE "MessageId" = 7`);
      const moved = await verifyDump(dir, { against: db2.url, progress: 'off' });
      expect(moved.ok).toBe(false);
      // The dump is sound: the source changed since the snapshot (not "damaged ... --overwrite").
      expect(moved.streams[0]!.problems).toEqual([]);
      expect(moved.streams[0]!.sourceChanges!.join('\n')).toMatch(/sum of its keys is 135243 in the database, 125250 in the dump/);
      expect(verifySummary(moved)).toContain('the dump is sound, the database has changed since its snapshot');
      expect(verifySummary(moved)).not.toContain('damaged');
      await db2.sql(`DELETE FROM dbo."Messages" WHERE "MessageId" = 10000`);
      const fewer = await verifyDump(dir, { against: db2.url, progress: 'off' });
      expect(fewer.streams[0]!.sourceChanges!.join('\n')).toMatch(/holds 499 rows in the database, the dump 500/);
      // A damaged part: that is what is reported, not the counts it throws off.
      const part = join(dir, (await readManifest(dir)).streams.Messages!.parts[0]!.file);
      await writeFile(part, Buffer.from('not gzip'));
      const damaged = await verifyDump(dir, { against: db2.url, progress: 'off' });
      expect(damaged.streams[0]!.problems.join('\n')).toContain(part);
      expect(damaged.streams[0]!.sourceChanges).toBeUndefined();
      expect(verifySummary(damaged)).toContain('damaged or missing part');
    } finally {
      await db2.drop();
    }
  });
});

describe('verify --source: the dump’s own database', () => {
  it('the manifest records the source identity; another database is refused unless asked', async () => {
    const manifest = await readManifest(dump);
    expect(manifest.producer.snapshot!.sourceIdentity).toEqual({ systemIdentifier: expect.stringMatching(/^\d+$/), database: db.name });
    const other = await createTempDb();
    try {
      await other.sql(SKELETON_SCHEMA_SQL);
      await expect(verifyDump(dump, { against: other.url, progress: 'off' })).rejects.toMatchObject({ code: 'USAGE', context: { option: '--source' } });
      const anyway = await verifyDump(dump, { against: other.url, allowOtherSource: true, progress: 'off' });
      expect(anyway.streams[0]!.sourceChanges!.join('\n')).toMatch(/holds 0 rows in the database, the dump 2000/);
    } finally {
      await other.drop();
    }
  });
});

describe('seedline verify', () => {
  const run = async (args: string[]): Promise<{ out: string; code: number | undefined }> => {
    const { stdout, code } = await runCommand(verifyCommand(), args);
    return { out: stdout, code };
  };

  it('exits 0 on a sound dump and 1 naming the bad file', async () => {
    const good = await run([dump, '--source', db.url, '--progress', 'off']);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/ok\s+Messages\s+2,000 records/);
    const dir = await copyOfDump('truncated');
    const part = (await readManifest(dir)).streams.Messages!.parts[0]!;
    const bytes = await readFile(join(dir, part.file));
    await writeFile(join(dir, part.file), bytes.subarray(0, bytes.length - 20));
    const bad = await run([dir, '--progress', 'off']);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(join(dir, part.file));
    expect(bad.out).toMatch(/→ .*write the data set again/);
  });

  it('--against, the old name of --source, still compares with the database and says what to write instead', async () => {
    const { stdout, stderr, code } = await runCommand(verifyCommand(), [dump, '--against', db.url, '--progress', 'off']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/database: 2,000 rows/);
    expect(stderr).toContain('--against is now --source');
  });

  it('--help ends with an example', () => {
    let text = '';
    const cmd = verifyCommand().exitOverride().configureOutput({ writeOut: (s) => (text += s) });
    expect(() => cmd.parse(['--help'], { from: 'user' })).toThrow();
    expect(text).toMatch(/Examples:\n\s+\$ seedline verify dump/);
  });
});
