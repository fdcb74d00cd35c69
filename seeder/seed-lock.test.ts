import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../recordfile/index.ts';
import { defaultCheckpointPath } from './checkpoint.ts';
import { seed } from './seed.ts';
import { deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from './test-helpers.ts';

/** Issue 13 item 14: a seed checkpoint is advanced by one run at a time (recordfile/dataset-lock.ts). */
const URL = 'amqp://guest:guest@127.0.0.1:5672';
let events: string;
const exchange = uniqueName('seed-lock');

beforeAll(async () => {
  events = await writeEventsDataset(await makeEvents(20));
});
afterAll(async () => {
  await deleteExchange(exchange).catch(() => {});
  if (events) await removeDataset(events);
});

describe('seed and the checkpoint lock', () => {
  it('refuses a checkpoint another run holds before publishing anything; runs once it is released', async () => {
    const other = await acquireLock(`${defaultCheckpointPath(events, exchange)}.lock`, 'seed', 'the checkpoint');
    const err = await seed({ events, url: URL, exchange, progress: 'off' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATASET_LOCKED' });
    expect((err as Error).message).toContain(`in use by seed (pid ${process.pid}`);
    await other.release();
    await expect(seed({ events, url: URL, exchange, progress: 'off' })).resolves.toMatchObject({ confirmed: 20 });
  }, 60_000);
});
