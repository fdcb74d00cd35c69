import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifest, writeManifest } from '../recordfile/index.ts';
import { memberRow, tempDir, writeDump } from './test-support.ts';
import { transform } from './transform.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

async function rejectLines(module: string): Promise<{ reason: string; columns: Record<string, unknown> }[]> {
  const text = await readFile(join(dir, 'events', 'rejects', `${module}.jsonl`), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l));
}

describe('a reject carries the columns its reason is about, never a sensitive one', () => {
  it('shows the named columns of a plain dump', async () => {
    await writeDump(join(dir, 'dump'), { Members: [memberRow({ MemberId: 1, BirthDate: '1900-01-01' })] });
    await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), progress: 'off' });
    expect(await rejectLines('members')).toMatchObject([{ reason: 'sentinel-birth-date', columns: { BirthDate: '1900-01-01' } }]);
  });

  it('leaves out a column the dump manifest says was masked, even when a reason names it', async () => {
    await writeDump(join(dir, 'dump'), { Members: [memberRow({ MemberId: 1, BirthDate: '1900-01-01' })] });
    const manifest = await readManifest(join(dir, 'dump'));
    manifest.streams['Members']!.info = { ...manifest.streams['Members']!.info, masked: { BirthDate: 'sha256' } };
    await writeManifest(join(dir, 'dump'), manifest);
    await transform({ dump: join(dir, 'dump'), out: join(dir, 'events'), progress: 'off' });
    const [line] = await rejectLines('members');
    expect(line).toMatchObject({ reason: 'sentinel-birth-date', columns: {} });
    expect(JSON.stringify(line)).not.toContain('1900-01-01"');
  });
});
