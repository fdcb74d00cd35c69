import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extract } from '../extractor/extract.ts';
import { createTempDb, type TempDb } from '../extractor/test-db.ts';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { createFixture } from '../fixtures/create-fixture.ts';
import { FIXTURE_TABLES } from '../fixtures/tables.ts';
import { envelopeType } from '../common/protos.ts';
import { eventStreams, readManifest, readMergedEvents, skipPlan, type PartOpener } from '../recordfile/index.ts';
import { runPipeline } from './pipeline.ts';
import { RejectLog } from './rejects.ts';
import { selectModules } from './select-modules.ts';
import { envelopeOf } from './sort-record.ts';
import { memberRow, messageRow, writeDump } from './test-support.ts';
import { transform } from './transform.ts';

/**
 * One stream per module (recordfile/events-dataset.ts): the merged order is the order of one
 * global sort, and re-running one module on a complete data set gives, byte for byte, what a
 * run of every module gives — on the tiny fixture, which exercises every module.
 */
describe('per-module event streams and incremental transforms (tiny fixture)', () => {
  let db: TempDb;
  let dir: string;
  const dump = () => join(dir, 'dump');
  const full = () => join(dir, 'full');
  /** Small parts, so merging and re-running cross part boundaries. */
  const maxPartBytes = 64 * 1024;

  beforeAll(async () => {
    db = await createTempDb();
    dir = await mkdtemp(join(tmpdir(), 'seedline-incremental-'));
    await createFixture({ url: db.url, preset: 'tiny', progress: 'off' });
    await extract({ source: db.url, tables: FIXTURE_TABLES.map((t) => `dbo.${t.name}`), out: dump(), sourceTimezone: FIXTURE_TIMEZONE, progress: 'off' });
    await transform({ dump: dump(), out: full(), maxPartBytes, progress: 'off' });
  }, 180_000);

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads back, merged, exactly the order of one global sort of every event', async () => {
    const globalOrder: Buffer[] = [];
    await runPipeline(
      { dump: dump(), modules: selectModules(), memoryBytes: 256 * 1024 * 1024, tmpDir: join(dir, '.runs'), rejects: new RejectLog(null), progress: 'off', workers: 0 },
      async (sorted) => {
        for await (const batch of sorted) for (const record of batch) globalOrder.push(Buffer.from(envelopeOf(record)));
      },
    );
    const streams = eventStreams(await readManifest(full()), full());
    expect(streams.map((s) => s.module)).toEqual(['members', 'photos', 'chat', 'flirts', 'favorites', 'visits', 'blocks', 'likes']);
    expect(streams.filter((s) => s.entry.parts.length > 1).length).toBeGreaterThan(0);
    const merged: Buffer[] = [];
    for await (const batch of readMergedEvents(full(), streams, { decode: (b) => Buffer.from(b) })) merged.push(...batch.events);
    expect(merged.length).toBe(globalOrder.length);
    expect(merged.length).toBeGreaterThan(1000);
    const firstDifference = merged.findIndex((b, i) => !b.equals(globalOrder[i]!));
    expect(firstDifference).toBe(-1);
  });

  it('from any start (a seed --resume), skips whole parts before it and hands out the same events with the same indexes as a full read', async () => {
    const Event = await envelopeType();
    const streams = eventStreams(await readManifest(full()), full());
    const parts = streams.flatMap((s) => s.entry.parts);
    // Every events part carries its first and last occurred_at: what the skip goes by.
    for (const part of parts) expect(typeof part.keyRange?.first).toBe('number');
    const all: Buffer[] = [];
    for await (const batch of readMergedEvents(full(), streams, { decode: (b) => Buffer.from(b) })) all.push(...batch.events);
    const total = all.length;

    // The merged index of each stream's part boundaries: where a part's first record lands.
    const boundaries = new Set<number>();
    const seen = new Map<string, number>();
    const startsOf = new Map(streams.map((s) => [s.module!, new Set(s.entry.parts.map((_, i) => s.entry.parts.slice(0, i).reduce((n, p) => n + p.records, 0)))]));
    for (const [index, bytes] of all.entries()) {
      const module = (Event.decode(bytes) as unknown as { type: string }).type.split('.')[0]!;
      const k = seen.get(module) ?? 0;
      if (startsOf.get(module)!.has(k)) boundaries.add(index);
      seen.set(module, k + 1);
    }
    expect(boundaries.size).toBe(parts.filter((p) => p.records > 0).length);
    const planned = [...boundaries].flatMap((b) => [b, b + 1]).map((b) => skipPlan(streams, b).index);
    const starts = [...new Set([0, 1, 100, ...boundaries, ...[...boundaries].map((b) => b - 1), ...planned, Math.floor(total * 0.9), total - 1, total, total + 5])].filter((s) => s >= 0);
    expect(starts.length).toBeGreaterThan(20);

    for (const start of starts.sort((a, b) => a - b)) {
      const opened: string[] = [];
      const openParts: PartOpener = async function* (base, ofStream) {
        for (const entry of ofStream) {
          opened.push(entry.file);
          yield { file: join(base, entry.file), entry };
        }
      };
      let next = start;
      let same = true;
      for await (const batch of readMergedEvents(full(), streams, { start, decode: (b) => Buffer.from(b), openParts })) {
        expect(batch.first).toBe(next);
        for (const [i, bytes] of batch.events.entries()) same &&= bytes.equals(all[batch.first + i]!);
        next += batch.events.length;
      }
      expect({ start, same, end: next }).toEqual({ start, same: true, end: Math.max(start, total) });
      // 90% through, most of chat (the one stream of several parts here) is not read at all.
      const chatParts = streams.find((s) => s.module === 'chat')!.entry.parts.length;
      if (start === Math.floor(total * 0.9)) expect(opened.filter((f) => f.startsWith('events.chat/')).length).toBeLessThan(chatParts / 2);
    }
  }, 120_000);

  for (const module of ['chat', 'likes']) {
    it(`--module ${module} on a complete data set rewrites only its stream and rejects: byte-identical to a run of every module`, async () => {
      const out = join(dir, `rerun-${module}`);
      await cp(full(), out, { recursive: true });
      // Damage the module's stream and rejects: only a real re-run gives them back.
      const before = await readManifest(out);
      for (const part of before.streams[`events.${module}`]!.parts) await writeFile(join(out, part.file), 'stale');
      await writeFile(join(out, 'rejects', `${module}.jsonl`), 'stale\n');
      const untouched = await fileStats(out, (f) => !f.startsWith(`events.${module}/`) && f.startsWith('events.'));

      const result = await transform({ dump: dump(), out, modules: [module], maxPartBytes, progress: 'off' });
      expect(result.keptModules).toEqual(['members', 'photos', 'chat', 'flirts', 'favorites', 'visits', 'blocks', 'likes'].filter((m) => m !== module));

      // The other streams' files were not rewritten.
      expect(await fileStats(out, (f) => untouched.has(f))).toEqual(untouched);
      // Every stream, decompressed, and every reject file equal a from-scratch run of every module.
      expect(await contents(out)).toEqual(await contents(full()));
      const manifest = await readManifest(out);
      expect(manifest.complete).toBe(true);
      expect(manifest.streams).toEqual((await readManifest(full())).streams);
      expect(manifest.producer.source).toEqual((await readManifest(full())).producer.source);
    }, 120_000);
  }
});

describe('incremental transform: what is kept and what is refused', () => {
  it('tops up a data set with another module, refuses to mix dump states, rebuilds without --module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seedline-incremental-'));
    try {
      const T0 = 1_262_304_000_000_000n;
      await writeDump(join(dir, 'dump'), { Members: [memberRow({ MemberId: 1, RegisteredAt: T0 }), memberRow({ MemberId: 2, RegisteredAt: T0 })], Messages: [messageRow({ SenderId: 1, RecipientId: 2, SentAt: T0 })] });
      const out = join(dir, 'events');
      await transform({ dump: join(dir, 'dump'), out, modules: ['chat'], progress: 'off' });
      const added = await transform({ dump: join(dir, 'dump'), out, modules: ['members'], progress: 'off' });
      expect(added.keptModules).toEqual(['chat']);
      expect(Object.keys((await readManifest(out)).streams)).toEqual(['events.members', 'events.chat']);
      await transform({ dump: join(dir, 'dump'), out: join(dir, 'both'), modules: ['members', 'chat'], progress: 'off' });
      expect(await contents(out)).toEqual(await contents(join(dir, 'both')));

      // A re-run of chat interrupted half way: the next one still keeps members.
      const stop = new AbortController();
      stop.abort();
      await expect(transform({ dump: join(dir, 'dump'), out, modules: ['chat'], signal: stop.signal, progress: 'off' })).rejects.toMatchObject({ code: 'INTERRUPTED' });
      expect((await readManifest(out)).complete).toBe(false);
      await expect(transform({ dump: join(dir, 'dump'), out, modules: ['chat'], progress: 'off' })).resolves.toMatchObject({ keptModules: ['members'] });
      expect(await contents(out)).toEqual(await contents(join(dir, 'both')));

      // Another --limit, or the dump extracted again: the kept module would be stale.
      await expect(transform({ dump: join(dir, 'dump'), out, modules: ['chat'], limit: 1, progress: 'off' })).rejects.toMatchObject({ code: 'OUTPUT_EXISTS' });
      await rm(join(dir, 'dump'), { recursive: true });
      await writeDump(join(dir, 'dump'), { Members: [memberRow({ MemberId: 1, RegisteredAt: T0 })], Messages: [messageRow({ SenderId: 1, RecipientId: 1, SentAt: T0 })] });
      const refused = await transform({ dump: join(dir, 'dump'), out, modules: ['chat'], progress: 'off' }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'OUTPUT_EXISTS', message: expect.stringMatching(/members .*earlier state of the dump/) });
      expect((await readManifest(out)).complete).toBe(true); // refused before touching it
      // Every module again: rebuilt, no --overwrite needed.
      await expect(transform({ dump: join(dir, 'dump'), out, modules: ['members', 'chat'], progress: 'off' })).resolves.toMatchObject({ keptModules: [] });

      // A data set of the older layout (one `events` stream) cannot be topped up either.
      const manifest = await readManifest(out);
      await writeFile(join(out, 'manifest.json'), JSON.stringify({ ...manifest, streams: { events: manifest.streams['events.members'] } }));
      const older = await transform({ dump: join(dir, 'dump'), out, modules: ['chat'], progress: 'off' }).catch((e: unknown) => e);
      expect(older).toMatchObject({ code: 'OUTPUT_EXISTS', message: expect.stringMatching(/older single-stream layout/) });
      await expect(transform({ dump: join(dir, 'dump'), out, progress: 'off' })).resolves.toMatchObject({ keptModules: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Decompressed bytes of every stream (its parts in order) and every reject file. */
async function contents(dataset: string): Promise<Record<string, string>> {
  const manifest = await readManifest(dataset);
  const out: Record<string, string> = {};
  for (const [name, stream] of Object.entries(manifest.streams)) {
    const parts = await Promise.all(stream.parts.map(async (p) => gunzipSync(await readFile(join(dataset, p.file)))));
    out[name] = Buffer.concat(parts).toString('base64');
  }
  const rejects = join(dataset, 'rejects');
  for (const file of await readdir(rejects).catch(() => [] as string[])) out[`rejects/${file}`] = await readFile(join(rejects, file), 'utf8');
  return out;
}

/** Inode and modification time of each file (relative path) that `keep` selects. */
async function fileStats(dataset: string, keep: (file: string) => boolean): Promise<Map<string, string>> {
  const stats = new Map<string, string>();
  for (const entry of await readdir(dataset, { recursive: true })) {
    const file = String(entry);
    if (!keep(file)) continue;
    const s = await stat(join(dataset, file));
    if (s.isFile()) stats.set(file, `${s.ino}:${s.mtimeMs}`);
  }
  return stats;
}
