import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../common/version.ts';
import { changedInputs, readCurrent } from '../scripts/build.mjs';
import { memberRow, messageRow, tempDir, writeDump } from '../transformer/test-support.ts';

const run = promisify(execFile);
const CLI = new URL('../bin/seedline.js', import.meta.url).pathname;

describe('the compiled build bin/seedline.js runs', () => {
  it('is made (or found up to date) by the bin and lists the sources it was built from', async () => {
    const { stdout } = await run(process.execPath, [CLI, '--version']);
    expect(stdout.trim()).toBe(VERSION);
    const current = readCurrent();
    expect(current, 'dist/current.json after a run of the bin').toBeDefined();
    expect(Object.keys(current!.inputs)).toEqual(expect.arrayContaining(['cli/main.ts', 'transformer/generate-worker.ts']));
    expect(changedInputs(current!.inputs)).toEqual([]);
  }, 60_000);

  it('counts a source file as changed when its size or time differs from the record', () => {
    const current = readCurrent();
    expect(current).toBeDefined();
    const edited = { ...current!.inputs, 'cli/main.ts': '1:0' };
    expect(changedInputs(edited)).toEqual(['cli/main.ts']);
    expect(changedInputs({ 'no/such/file.ts': '1:0' })).toEqual(['no/such/file.ts']);
  });

  it('runs the transform on worker threads from the build, with the same events as without workers', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const members = Array.from({ length: 40 }, (_, i) => memberRow({ MemberId: i + 1 }));
      const messages = Array.from({ length: 200 }, (_, i) =>
        messageRow({ MessageId: BigInt(i + 1), SenderId: (i % 40) + 1, RecipientId: ((i + 7) % 40) + 1 }),
      );
      await writeDump(join(dir, 'dump'), { Members: members, Messages: messages });
      const outputs: string[] = [];
      for (const workers of ['2', '0']) {
        const out = join(dir, `events-${workers}`);
        await run(process.execPath, [CLI, 'transform', '--dump', join(dir, 'dump'), '--out', out, '--workers', workers, '--progress', 'off']).catch(
          (err: { code: number }) => expect(err.code, 'exit 0, or 3 for rejected rows').toBe(3),
        );
        const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { streams: Record<string, { parts: { sha256: string }[] }> };
        outputs.push(JSON.stringify(Object.values(manifest.streams).map((s) => s.parts.map((p) => p.sha256))));
      }
      expect(outputs[0]).toBe(outputs[1]);
      expect(outputs[0]).toMatch(/[0-9a-f]{64}/);
    } finally {
      await cleanup();
    }
  }, 120_000);
});
