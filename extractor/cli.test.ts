import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readManifest } from '../recordfile/index.ts';
import { extractCommand } from './cli.ts';
import { createTempDb, SKELETON_SCHEMA_SQL, type TempDb } from './test-db.ts';
import { runCommand } from '../common/test-support.ts';

let db: TempDb;
let tmp: string;

beforeAll(async () => {
  db = await createTempDb();
  await db.sql(SKELETON_SCHEMA_SQL);
  await db.sql(`INSERT INTO dbo."Messages" SELECT g, 1, 2, 'm', '2012-01-01', NULL, false, false FROM generate_series(1, 42) g`);
  tmp = await mkdtemp(join(tmpdir(), 'seedline-cli-'));
});

afterAll(async () => {
  await db?.drop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const run = async (args: string[]): Promise<string> => (await runCommand(extractCommand(), args)).stdout;

describe('seedline extract', () => {
  it('--help ends with an example', () => {
    const help = extractCommand().helpInformation() + '';
    expect(help).toContain('--source-timezone');
    let text = '';
    const cmd = extractCommand().exitOverride().configureOutput({ writeOut: (s) => (text += s) });
    expect(() => cmd.parse(['--help'], { from: 'user' })).toThrow();
    expect(text).toMatch(/Examples:\n\s+\$ seedline extract /);
  });

  it('extracts the tables of a config file, flags winning, and prints where the dump went', async () => {
    const out = join(tmp, 'dump');
    const config = join(tmp, 'seedline.json');
    await writeFile(config, JSON.stringify({ source: db.url, sourceTimezone: 'UTC', out: 'elsewhere', tables: ['dbo.Messages'] }));
    process.exitCode = undefined;
    const printed = await run(['--config', config, '--out', out, '--source-timezone', 'Europe/Helsinki', '--gzip-level', '1']);
    expect(process.exitCode).toBe(0);
    process.exitCode = undefined;
    expect(printed).toContain(`→ ${out} (complete`);
    expect(printed).toMatch(/Messages\s+42 rows/);
    expect((await readManifest(out)).streams.Messages!.records).toBe(42);
  });
});
