import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataset } from '../recordfile/index.ts';
import { memberRow, tempDir, writeDump } from './test-support.ts';
import { transform } from './transform.ts';

/** Issue 13 item 14: an events data set is written by one run at a time (recordfile/dataset-lock.ts). */
let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('transform and the data set lock', () => {
  it('refuses an --out another run holds, naming it, and runs once the lock is released', async () => {
    await writeDump(join(dir, 'dump'), { Members: [memberRow()] });
    const out = join(dir, 'events');
    const other = await lockDataset(out, 'transform');
    const err = await transform({ dump: join(dir, 'dump'), out, modules: ['members'], progress: 'off' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATASET_LOCKED' });
    expect((err as Error).message).toContain(`in use by transform (pid ${process.pid}`);
    await other.release();
    await expect(transform({ dump: join(dir, 'dump'), out, modules: ['members'], progress: 'off' })).resolves.toMatchObject({ events: 1 });
    // Released at the end: the next run gets it.
    await (await lockDataset(out, 'transform')).release();
  });
});
