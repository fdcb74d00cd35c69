import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../recordfile/index.ts';
import { extract } from './extract.ts';
import { TYPE_MAPPING_VERSION } from './output-shape.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';
import { verifyDump, verifySummary } from './verify.ts';

/**
 * What a resume may continue: only a dump of the same options (a part read in another time
 * zone or without a mask must not join it), and only when no other run is writing it.
 * The real CLI, killed with SIGKILL, as a user's crash would leave it.
 */
const BIN = fileURLToPath(new URL('../bin/seedline.js', import.meta.url));
const ROWS = 60_000;
let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`INSERT INTO dbo."Messages"
    SELECT g, g % 1000, g % 777, md5(g::text), '2012-01-01'::timestamp + g * interval '1 second', NULL, false, false FROM generate_series(1, ${ROWS}) g;
    INSERT INTO dbo."Members" ("MemberId", "UserName", "Email", "Gender", "CountryCode", "Credits", "IsDeleted", "RegisteredAt", "ExternalId", "RowVer")
      SELECT g, 'm' || g, 'm' || g || '@example.fi', 1, 'FI', 0, false, '2010-01-01', gen_random_uuid(), '\\x01' FROM generate_series(1, 20) g;
    ANALYZE;`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-resume-guard-'));
});
afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function seedline(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += String(d)));
  child.stderr.on('data', (d) => (output += String(d)));
  const exit = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exit, output: () => output };
}

async function waitForParts(out: string, n: number, running: { exit: Promise<unknown>; output: () => string }): Promise<void> {
  let ended = false;
  void running.exit.then(() => (ended = true));
  while (((await readManifest(out).catch(() => null))?.streams.Messages?.parts.length ?? 0) < n) {
    if (ended) throw new Error(`the run ended before ${n} parts: ${running.output()}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe('extract --resume guards', () => {
  it('refuses a second run on a dump being written, and a resume with another --source-timezone; resumes with the same one, saying which table spans two snapshots', async () => {
    const out = join(tmp, 'dump');
    const args = (zone: string) => ['extract', 'dbo.Messages', '--source', db.url, '--out', out, '--source-timezone', zone, '--progress', 'off', '--max-part-mb', '1'];
    const first = seedline([...args('Europe/Helsinki'), '--max-rows-per-second', '10000']);
    await waitForParts(out, 1, first);

    // Issue 13 item 14: a second run while the first still writes.
    const second = seedline([...args('Europe/Helsinki'), '--resume']);
    expect(await second.exit, second.output()).toBe(1);
    expect(second.output()).toContain(`in use by extract (pid ${first.child.pid} on `);

    first.child.kill('SIGKILL');
    expect(await first.exit).toBe('SIGKILL');
    const killed = await readManifest(out);
    expect(killed.complete).toBe(false);
    expect(killed.producer.options).toEqual({ sourceTimezone: 'Europe/Helsinki', typeMappingVersion: TYPE_MAPPING_VERSION });

    // Item 2: the kept parts are Helsinki time; parts read as UTC would be hours off.
    const utc = seedline([...args('UTC'), '--resume']);
    expect(await utc.exit, utc.output()).toBe(2);
    expect(utc.output()).toMatch(/--source-timezone: the dump has Europe\/Helsinki, this run UTC/);
    expect((await readManifest(out)).streams.Messages!.parts).toEqual(killed.streams.Messages!.parts);

    // Item 3: the same options resume; the parts say which snapshot they were read in.
    const resumed = seedline([...args('Europe/Helsinki'), '--resume']);
    expect(await resumed.exit, resumed.output()).toBe(0);
    expect(resumed.output()).toMatch(/note: Messages spans 2 snapshots/);
    expect(resumed.output()).toContain('--redo-partial');
    const done = await readManifest(out);
    const snapshots = new Set(done.streams.Messages!.parts.map((p) => p.snapshot?.at));
    expect(snapshots.size).toBe(2);
    expect([...snapshots]).toContain(String(killed.producer.snapshot!.at));
    expect(done.streams.Messages!.records).toBe(ROWS);
    const verified = verifySummary(await verifyDump(out, { progress: 'off' }));
    expect(verified).toMatch(/note: Messages spans 2 snapshots/);
    expect(verified).toMatch(/source time zone Europe\/Helsinki/);

    // --redo-partial reads such a table again whole after the next crash; here: a dump that is
    // complete keeps its parts, one with a half-done table re-reads it in one snapshot.
    const partial = join(tmp, 'partial');
    const third = seedline(['extract', 'dbo.Messages', '--source', db.url, '--out', partial, '--source-timezone', 'Europe/Helsinki', '--progress', 'off', '--max-part-mb', '1', '--max-rows-per-second', '10000']);
    await waitForParts(partial, 1, third);
    third.child.kill('SIGKILL');
    await third.exit;
    const redo = seedline(['extract', 'dbo.Messages', '--source', db.url, '--out', partial, '--source-timezone', 'Europe/Helsinki', '--progress', 'off', '--max-part-mb', '1', '--resume', '--redo-partial']);
    expect(await redo.exit, redo.output()).toBe(0);
    expect(redo.output()).not.toMatch(/spans 2 snapshots/);
    const redone = await readManifest(partial);
    expect(new Set(redone.streams.Messages!.parts.map((p) => p.snapshot?.at)).size).toBe(1);
    expect(redone.streams.Messages!.records).toBe(ROWS);
  }, 120_000);

  it('refuses a resume with a mask removed, naming the table, the option and both values', async () => {
    const out = join(tmp, 'masked');
    const base = { source: db.url, out, sourceTimezone: 'UTC', progress: 'off' as const };
    await extract({ ...base, tables: [{ name: 'dbo.Members', mask: { Email: 'sha256' } }] });
    const err = await extract({ ...base, tables: ['dbo.Members'], resume: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'USAGE', context: { option: 'resume' } });
    expect((err as Error).message).toContain('dbo.Members "mask": the dump has {"Email":"sha256"}, this run none');
    expect((await readManifest(out)).complete).toBe(true); // a refused resume changes nothing
  }, 60_000);
});
