import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordSplitter, readManifest } from '../recordfile/index.ts';
import { EventEncoder } from './event-encoder.ts';
import { newStats } from './generate.ts';
import { buildLookups } from './lookups/build.ts';
import { micros } from './legacy-time.ts';
import { generateInWorkers } from './parallel-generate.ts';
import { RejectLog } from './rejects.ts';
import { MODULES, throwingChat } from './test-throwing-modules.ts';
import { memberRow, messageRow, tempDir, writeDump } from './test-support.ts';
import { transform } from './transform.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const T0 = micros('2011-01-01T00:00:00Z');

/** Members and messages over many small parts, with dirty rows (rejects) spread over all parts. */
function tables(members: number, messages: number) {
  let s = 3;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  return {
    Members: Array.from({ length: members }, (_, i) =>
      // Registered before every message (no registered-later rejects thin out the stream).
      memberRow({ MemberId: i + 1, RegisteredAt: T0 - BigInt(next() % 40) * 1_000_000n, BirthDate: i % 17 === 0 ? '1900-01-01' : '1980-01-01' }),
    ),
    Messages: Array.from({ length: messages }, (_, i) =>
      messageRow({
        MessageId: BigInt(i + 1),
        SenderId: 1 + (next() % (members + 5)), // a few senders that do not exist: rejects
        RecipientId: 1 + (next() % members),
        Body: i % 31 === 0 ? null : `m${i} ${'å'.repeat(next() % 80)}`,
        SentAt: T0 + BigInt(next() % 90) * 1_000_000n,
        ReadAt: i % 3 === 0 ? T0 + BigInt(next() % 120) * 1_000_000n : null,
      }),
    ),
  };
}

async function outputOf(out: string) {
  const manifest = await readManifest(out);
  const streams = Object.values(manifest.streams);
  const parts = await Promise.all(streams.flatMap((s) => s.parts).map((p) => readFile(join(out, p.file))));
  const rejects = Object.fromEntries(await Promise.all((await readdir(join(out, 'rejects'))).map(async (f) => [f, await readFile(join(out, 'rejects', f), 'utf8')])));
  return { parts, rejects, info: streams.map((s) => s.info) };
}

describe('modules on worker threads', () => {
  it('gives byte-identical parts and rejects for 0, 1 and 3 workers, on a stream many times the memory budget', async () => {
    const dump = join(dir, 'dump');
    await writeDump(dump, tables(200, 4000), { maxPartBytes: 30_000 });
    expect((await readManifest(dump)).streams['Messages']!.parts.length).toBeGreaterThan(5);
    const results = [];
    for (const workers of [0, 1, 3]) {
      const out = join(dir, `events-${workers}`);
      // ~1 MB of events against a 240 KB budget: runs of 30 KB spill and merge.
      const result = await transform({ dump, out, modules: ['members', 'chat'], memoryBytes: 240_000, maxPartBytes: 100_000, workers, progress: 'off' });
      expect(result.sortRuns).toBeGreaterThan(10);
      expect(result.rejects).toBeGreaterThan(100);
      results.push({ result, ...(await outputOf(out)) });
    }
    const [none, one, three] = results;
    for (const other of [one!, three!]) {
      expect(other.parts.length).toBe(none!.parts.length);
      other.parts.forEach((p, i) => expect(p.equals(none!.parts[i]!)).toBe(true));
      expect(other.rejects).toEqual(none!.rejects); // the same lines in the same order
      expect(other.info).toEqual(none!.info);
      expect(other.result.eventsByType).toEqual(none!.result.eventsByType);
      expect(other.result.rowsByTable).toEqual(none!.result.rowsByTable);
    }
  });

  async function generate(dump: string, options: { signal?: AbortSignal; onEmit?: () => void } = {}) {
    const modules = MODULES.map((module, index) => ({ module, index: index === 0 ? 0 : 2 }));
    const built = await buildLookups(dump, ['members'], () => {});
    const stats = newStats();
    const records: Buffer[] = [];
    const promise = generateInWorkers({
      dump,
      modules,
      encoder: await EventEncoder.create(MODULES),
      rejects: new RejectLog(null),
      lookups: built.lookups,
      emit: () => {
        throw new Error('the workers send framed batches');
      },
      emitFramed: async (framed) => {
        const batch: Buffer[] = [];
        expect(new RecordSplitter().push(framed, batch)).toBe(true);
        records.push(...batch);
        options.onEmit?.();
      },
      checkpoint: () => {
        if (options.signal?.aborted) throw Object.assign(new Error('interrupted'), { code: 'INTERRUPTED' });
      },
      stats,
      workers: 2,
      modulesUrl: new URL('./test-throwing-modules.ts', import.meta.url).href,
      signal: options.signal,
    });
    return { promise, stats, records };
  }

  it('names the module, table and part when a module throws on a worker thread', async () => {
    const dump = join(dir, 'dump');
    await writeDump(dump, tables(50, 400), { maxPartBytes: 8_000 });
    const parts = (await readManifest(dump)).streams['Messages']!.parts;
    let first = 0;
    const part = parts.find((p) => (first += p.records) >= 77)!; // the part holding message 77
    const { promise } = await generate(dump);
    const err = await promise.then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'TRANSFORM_FAILED', context: { module: 'chat', table: 'Messages', file: join(dump, part.file) } });
    expect((err as Error).message).toMatch(/module chat threw in events \(row 77\).*boom on 77.*part .*part-\d+\.pb\.gz/);
    expect(throwingChat.name).toBe('chat');
  });

  it('stops the workers on abort (Ctrl-C) with INTERRUPTED, long before the end', async () => {
    const dump = join(dir, 'dump');
    await writeDump(dump, { ...tables(50, 20_000), Messages: tables(50, 20_000).Messages.filter((m) => m.MessageId !== 77n) }, { maxPartBytes: 20_000 });
    const controller = new AbortController();
    const { promise, stats } = await generate(dump, { signal: controller.signal, onEmit: () => controller.abort() });
    await expect(promise).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(stats.rows).toBeLessThan(20_000);
  });
});
