import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyDump } from '../extractor/verify.ts';
import { readManifest, writeManifest, type Manifest } from '../recordfile/index.ts';
import { memberRow, messageRow, tempDir, writeDump } from './test-support.ts';
import { transform } from './transform.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** A sound dump, then its manifest edited by `edit`: what a hand-edited or buggy manifest looks like. */
async function dumpWithManifest(edit: (m: Manifest) => void): Promise<string> {
  const dump = join(dir, 'dump');
  await writeDump(dump, {
    Members: [memberRow({ MemberId: 1 }), memberRow({ MemberId: 2 }), memberRow({ MemberId: 3 })],
    Messages: [messageRow()],
  });
  const manifest = await readManifest(dump);
  edit(manifest);
  await writeManifest(dump, manifest);
  return dump;
}

const run = (dump: string) => transform({ dump, out: join(dir, 'events'), progress: 'off', workers: 0 });

describe('a manifest that disagrees with itself or with its parts fails the transform and verify', () => {
  it('a stream-level record count that is not the sum of its parts', async () => {
    const dump = await dumpWithManifest((m) => (m.streams['Members']!.records += 1));
    const err = await run(dump).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MANIFEST_INVALID', context: { table: 'Members', file: join(dump, 'manifest.json') } });
    expect((err as Error).message).toContain('stream Members field records says 4, its parts hold 3');
    const verified = await verifyDump(dump, { progress: 'off' });
    expect(verified.ok).toBe(false);
    expect(verified.streams.find((s) => s.stream === 'Members')!.problems.join('\n')).toMatch(/Members says 4 records, its parts 3/);
  });

  it('a wrong per-part uncompressedBytes', async () => {
    const dump = await dumpWithManifest((m) => {
      const part = m.streams['Messages']!.parts[0]!;
      m.streams['Messages']!.parts[0] = { ...part, uncompressedBytes: part.uncompressedBytes + 7 };
    });
    const file = join(dump, 'Messages', 'part-00000.pb.gz');
    const err = await run(dump).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHECKSUM_MISMATCH', context: { file } });
    expect((err as Error).message).toMatch(/uncompressed bytes, manifest field uncompressedBytes says \d+/);
    const verified = await verifyDump(dump, { progress: 'off' });
    expect(verified.ok).toBe(false);
    expect(verified.streams.find((s) => s.stream === 'Messages')!.problems.join('\n')).toContain(`${file}: holds`);
  });

  it('a wrong per-part compressedBytes', async () => {
    const dump = await dumpWithManifest((m) => {
      const part = m.streams['Members']!.parts[0]!;
      m.streams['Members']!.parts[0] = { ...part, compressedBytes: part.compressedBytes - 1 };
    });
    const err = await run(dump).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect((err as Error).message).toMatch(/compressed bytes, manifest field compressedBytes says/);
    expect((await verifyDump(dump, { progress: 'off' })).ok).toBe(false);
  });
});
