import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../common/exit-codes.ts';
import { readManifest } from '../recordfile/index.ts';
import { memberRow, tempDir, writeDump } from './test-support.ts';

const CLI = new URL('../bin/seedline.js', import.meta.url).pathname;
const execFileAsync = promisify(execFile);

/** `seedline transform …` as a user runs it: a child process; its exit code and output. */
async function seedline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout: string; stderr: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** Every file of a dump with its bytes: what must still be there, unchanged, after a refused run. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path] = (await readFile(path)).toString('base64');
  }
  return out;
}

describe('transform never writes into, over or inside its --dump (real CLI)', () => {
  async function dump(): Promise<{ path: string; before: Record<string, string> }> {
    const path = join(dir, 'dump');
    await writeDump(path, { Members: [memberRow({ MemberId: 1 }), memberRow({ MemberId: 2 })] });
    return { path, before: await snapshot(path) };
  }

  it('--dump d --out d --overwrite is refused and leaves the dump whole', async () => {
    const d = await dump();
    const run = await seedline(['transform', '--dump', d.path, '--out', d.path, '--overwrite', '--progress', 'off']);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/--out .* is the dump being read/);
    expect(await snapshot(d.path)).toEqual(d.before);
  });

  it('--out through a symlink to the dump is the dump too', async () => {
    const d = await dump();
    await symlink(d.path, join(dir, 'alias'));
    const run = await seedline(['transform', '--dump', d.path, '--out', join(dir, 'alias'), '--overwrite', '--progress', 'off']);
    expect(run.code).toBe(EXIT.USAGE);
    expect(await snapshot(d.path)).toEqual(d.before);
  });

  it('--out inside the dump is refused (and nothing is created there)', async () => {
    const d = await dump();
    const run = await seedline(['transform', '--dump', d.path, '--out', join(d.path, 'events'), '--progress', 'off']);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/is inside the dump being read/);
    expect(await snapshot(d.path)).toEqual(d.before);
  });

  it('--out holding the dump (its parent) is refused', async () => {
    const d = await dump();
    const run = await seedline(['transform', '--dump', d.path, '--out', dir, '--overwrite', '--progress', 'off']);
    expect(run.code).toBe(EXIT.USAGE);
    expect(run.stderr).toMatch(/contains the dump being read/);
    expect(await snapshot(d.path)).toEqual(d.before);
  });

  it('--overwrite onto another dump is refused: it replaces only an events data set', async () => {
    const d = await dump();
    const other = join(dir, 'other-dump');
    await writeDump(other, { Members: [memberRow({ MemberId: 7 })] });
    const before = await snapshot(other);
    const run = await seedline(['transform', '--dump', d.path, '--out', other, '--overwrite', '--progress', 'off']);
    expect(run.code).toBe(EXIT.ERROR);
    expect(run.stderr).toMatch(/written by test \(a dump, not events\); --overwrite replaces only an events data set/);
    expect(await snapshot(other)).toEqual(before);
  });

  it('an --out with an unreadable manifest is not cleaned up as leftovers', async () => {
    const d = await dump();
    const foreign = join(dir, 'foreign');
    await mkdir(join(foreign, 'Members'), { recursive: true });
    await writeDump(join(dir, 'scratch'), { Members: [memberRow()] });
    await copyFile(join(dir, 'scratch', 'Members', 'part-00000.pb.gz'), join(foreign, 'Members', 'part-00000.pb.gz'));
    await writeFile(join(foreign, 'manifest.json'), '{ not json');
    const before = await snapshot(foreign);
    const run = await seedline(['transform', '--dump', d.path, '--out', foreign, '--overwrite', '--progress', 'off']);
    expect(run.code).toBe(EXIT.ERROR);
    expect(run.stderr).toMatch(/cannot be read/);
    expect(await snapshot(foreign)).toEqual(before);
  });

  it('--overwrite still replaces an events data set', async () => {
    const d = await dump();
    const out = join(dir, 'events');
    expect((await seedline(['transform', '--dump', d.path, '--out', out, '--progress', 'off'])).code).toBe(EXIT.OK);
    const again = await seedline(['transform', '--dump', d.path, '--out', out, '--overwrite', '--progress', 'off']);
    expect(again.code).toBe(EXIT.OK);
    expect((await readManifest(out)).producer.stage).toBe('transform');
  });
});
