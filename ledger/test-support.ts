import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from '../extractor/extract.ts';
import { createTempDb } from '../extractor/test-db.ts';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { createFixture } from '../fixtures/create-fixture.ts';
import type { FixtureSummary } from '../fixtures/summary.ts';
import { FIXTURE_TABLES } from '../fixtures/tables.ts';
import { transform, type TransformResult } from '../transformer/transform.ts';

/**
 * Test support: the tiny fixture loaded into a fresh PostgreSQL database, all nine tables
 * extracted and transformed with small parts (several events parts, so one can go missing).
 */
export interface FixturePipeline {
  readonly dir: string;
  readonly dump: string;
  readonly events: string;
  readonly summary: FixtureSummary;
  readonly transform: TransformResult;
  /** A copy of dump/ and events/ to damage: `{ dump, events }` in a directory of its own. */
  copy(): Promise<{ dump: string; events: string }>;
  dispose(): Promise<void>;
}

export async function fixturePipeline(): Promise<FixturePipeline> {
  const db = await createTempDb();
  const dir = await mkdtemp(join(tmpdir(), 'seedline-ledger-'));
  try {
    const summary = await createFixture({ url: db.url, preset: 'tiny', progress: 'off' });
    const dump = join(dir, 'dump');
    const events = join(dir, 'events');
    await extract({ source: db.url, tables: FIXTURE_TABLES.map((t) => `dbo.${t.name}`), out: dump, sourceTimezone: FIXTURE_TIMEZONE, progress: 'off' });
    const result = await transform({ dump, out: events, progress: 'off', maxPartBytes: 64 * 1024 });
    let copies = 0;
    return {
      dir,
      dump,
      events,
      summary,
      transform: result,
      async copy() {
        const to = join(dir, `copy-${copies++}`);
        await cp(dump, join(to, 'dump'), { recursive: true });
        await cp(events, join(to, 'events'), { recursive: true });
        return { dump: join(to, 'dump'), events: join(to, 'events') };
      },
      async dispose() {
        await rm(dir, { recursive: true, force: true });
      },
    };
  } finally {
    await db.drop();
  }
}
