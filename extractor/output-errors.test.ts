import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedlineError } from '../common/errors.ts';
import { readManifest } from '../recordfile/index.ts';
import { extract, type ExtractOptions } from './extract.ts';
import { mapPgError } from './postgres-errors.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';

/** Issue 13 item 6: what a user sees when the output cannot be written, or a lock wait times out. */
const BIN = fileURLToPath(new URL('../bin/seedline.js', import.meta.url));
let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`INSERT INTO dbo."Messages" SELECT g, 1, 2, md5(g::text) || md5((g + 1)::text), '2012-01-01'::timestamp + g * interval '1 second', NULL, false, false
    FROM generate_series(1, 40000) g; ANALYZE;`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-out-err-'));
});
afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const run = (out: string, extra: Partial<ExtractOptions> = {}): ExtractOptions => ({ source: db.url, tables: ['dbo.Messages'], out, sourceTimezone: 'UTC', progress: 'off', ...extra });
const failure = (o: ExtractOptions) => extract(o).then(() => null, (e: unknown) => e as SeedlineError);

/** A small file system of our own (tmpfs), when this process may mount one (root in CI); else the test is skipped. */
function mountTmpfs(dir: string, options: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status === 0;
}
const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = join(tmpdir(), `seedline-mount-probe-${process.pid}`);
  spawnSync('mkdir', ['-p', probe]);
  const ok = mountTmpfs(probe, 'size=64k');
  if (ok) spawnSync('umount', [probe]);
  spawnSync('rmdir', [probe]);
  return ok;
})();

describe('extract: errors about --out and locks', () => {
  it('a lock timeout (SQLSTATE 55P03) is a lock problem naming the table, not "cannot reach … firewall"', () => {
    const err = mapPgError({ code: '55P03', message: 'canceling statement due to lock timeout' }, { where: 'postgres://h:5432/d', user: 'u', database: 'd', table: 'dbo.Members' }, 'reading dbo.Members');
    expect(err.code).toBe('SOURCE_LOCKED');
    expect(err.message).toContain('dbo.Members');
    expect(err.message).not.toMatch(/cannot reach/);
    expect(err.hint).toContain('--lock-timeout');
  });

  it('--out that is a file: names the path and what to do (real CLI, no "unexpected error")', async () => {
    const file = join(tmp, 'a-file');
    await writeFile(file, 'not a directory');
    for (const out of [file, join(file, 'dump')]) {
      const r = spawnSync(process.execPath, [BIN, 'extract', 'dbo.Messages', '--source', db.url, '--out', out, '--source-timezone', 'UTC', '--progress', 'off'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain(`is a file where a directory is needed (--out ${out})`);
      expect(r.stderr).toMatch(/→ pass --out a directory path/);
      expect(r.stderr).not.toMatch(/unexpected error/);
    }
  });

  it('an unreadable manifest.json: a plain extract refuses and deletes nothing; --overwrite starts over', async () => {
    const out = join(tmp, 'broken-manifest');
    await extract(run(out));
    const before = await readdir(join(out, 'Messages'));
    await writeFile(join(out, 'manifest.json'), '{"format": "seedline-rec');
    const err = await failure(run(out));
    expect(err).toMatchObject({ code: 'MANIFEST_INVALID' });
    expect(err!.message).toContain('cannot be read');
    expect(err!.hint).toContain('--overwrite');
    expect(await readdir(join(out, 'Messages'))).toEqual(before);
    const again = await extract(run(out, { overwrite: true }));
    expect(again.complete).toBe(true);
    expect((await readManifest(out)).streams.Messages!.records).toBe(40000);
  });

  it.skipIf(!canMount)('a read-only --out (EROFS) and a full disk (ENOSPC) name the path and what to do', async () => {
    const ro = join(tmp, 'ro');
    const small = join(tmp, 'small');
    await mkdir(ro);
    await mkdir(small);
    expect(mountTmpfs(ro, 'ro,size=64k')).toBe(true);
    try {
      const err = await failure(run(ro));
      expect(err).toMatchObject({ code: 'OUTPUT_UNWRITABLE', context: { option: 'out' } });
      expect(err!.message).toContain(`${ro}`);
      expect(err!.message).toContain('read-only file system');
    } finally {
      execFileSync('umount', ['-l', ro]);
    }
    expect(mountTmpfs(small, 'size=256k')).toBe(true);
    try {
      const err = await failure(run(small, { maxPartBytes: 4 * 1024 * 1024, gzipLevel: 0 }));
      expect(err).toMatchObject({ code: 'OUTPUT_UNWRITABLE' });
      expect(err!.message).toContain(`the disk holding ${small} is full`);
      expect(err!.hint).toContain('--resume');
    } finally {
      execFileSync('umount', ['-l', small]);
    }
  });
});
