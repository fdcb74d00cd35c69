import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Long from 'long';
import { int64ToBigInt } from '../common/protos.ts';
import { decodeStream, readManifest, type PartEntry } from '../recordfile/index.ts';
import { loadLegacySchema } from './legacy-schema.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';
import { verifyDump } from './verify.ts';

/**
 * Resume after a real `kill -9` of the CLI, mid-table, two workers: no clean-up code runs,
 * so whatever the process left on disk is what --resume must cope with.
 */
const BIN = fileURLToPath(new URL('../bin/seedline.js', import.meta.url));
const ROWS = 150_000;
let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`INSERT INTO dbo."Messages"
    SELECT g, g % 1000, g % 777, md5(g::text) || ' message ' || g, '2012-01-01'::timestamp + g * interval '1 second', NULL, g % 2 = 0, false
      FROM generate_series(1, ${ROWS}) g`);
  await db.sql('ANALYZE dbo."Messages"');
  tmp = await mkdtemp(join(tmpdir(), 'seedline-kill-'));
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function seedline(args: string[]) {
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function committedParts(out: string): Promise<PartEntry[]> {
  try {
    return (await readManifest(out)).streams.Messages?.parts ?? [];
  } catch {
    return [];
  }
}

describe('extract killed with SIGKILL, then --resume', () => {
  it('keeps every complete part untouched and ends with every row exactly once', async () => {
    const out = join(tmp, 'dump');
    const args = ['extract', 'dbo.Messages', '--source', db.url, '--out', out, '--source-timezone', 'UTC', '--progress', 'off', '--max-part-mb', '1', '--concurrency', '2'];
    // Throttled so that the kill lands mid-table (~5 s for the whole table).
    const child = seedline([...args, '--max-rows-per-second', '30000']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    const deadline = Date.now() + 60_000;
    while ((await committedParts(out)).length < 3) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no parts committed in time: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const stopped = await readManifest(out);
    expect(stopped.complete).toBe(false);
    const kept = stopped.streams.Messages!.parts;
    expect(stopped.streams.Messages!.records).toBeLessThan(ROWS);
    const before = await Promise.all(kept.map(async (p) => ({ file: p.file, sha256: p.sha256, mtimeMs: (await stat(join(out, p.file))).mtimeMs })));

    const resumed = seedline([...args, '--resume']);
    let printed = '';
    resumed.stdout.on('data', (d) => (printed += String(d)));
    resumed.stderr.on('data', (d) => (printed += String(d)));
    const code = await new Promise<number | null>((resolve) => resumed.on('exit', resolve));
    expect(code, printed).toBe(0);
    expect(printed).toMatch(/kept from the earlier run/);

    const after = await readManifest(out);
    expect(after.complete).toBe(true);
    for (const b of before) {
      const entry = after.streams.Messages!.parts.find((p) => p.file === b.file);
      expect(entry?.sha256).toBe(b.sha256);
      expect((await stat(join(out, b.file))).mtimeMs).toBe(b.mtimeMs);
    }
    expect((await readdir(join(out, 'Messages'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // Every row exactly once, and the dump checks out against the database.
    const { type } = await loadLegacySchema('Messages');
    const seen = new Uint8Array(ROWS + 1);
    let count = 0;
    for await (const batch of decodeStream(out, 'Messages', (b) => Number(int64ToBigInt((type.decode(b) as unknown as { MessageId: Long }).MessageId)))) {
      for (const id of batch) {
        seen[id]!++;
        count++;
      }
    }
    expect(count).toBe(ROWS);
    expect(seen.subarray(1).every((n) => n === 1)).toBe(true);
    expect((await verifyDump(out, { against: db.url, progress: 'off' })).ok).toBe(true);
  }, 120_000);
});
