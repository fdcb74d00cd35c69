import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSeedlineError } from '../common/errors.ts';
import { LOCK_FILE, acquireLock, lockDataset } from './dataset-lock.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'seedline-lock-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The pid of a process that has ended (a pid nothing runs under now, on this host). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('dataset lock', () => {
  it('a second run is refused, naming the holder; after release the next run gets it', async () => {
    const dir = join(tmp, 'busy');
    const first = await lockDataset(dir, 'extract');
    const err = await lockDataset(dir, 'transform').catch((e: unknown) => e);
    expect(isSeedlineError(err, 'DATASET_LOCKED'), String(err)).toBe(true);
    expect((err as Error).message).toContain(`extract (pid ${process.pid} on ${hostname()}`);
    expect((err as { hint?: string }).hint).toContain(`kill ${process.pid}`);
    await first.release();
    const second = await lockDataset(dir, 'transform');
    expect(second.note).toBeUndefined();
    await second.release();
    expect(existsSync(dir)).toBe(false); // created by the lock and left empty: removed with it
  });

  it('release leaves a directory that existed, and one with other files, in place', async () => {
    const dir = join(tmp, 'kept');
    await mkdir(dir);
    await (await lockDataset(dir, 'extract')).release();
    expect(await readdir(dir)).toEqual([]); // no lock, no temporary file left
    const made = join(tmp, 'made');
    const lock = await lockDataset(made, 'extract');
    await writeFile(join(made, 'manifest.json'), '{}');
    await lock.release();
    expect(await readdir(made)).toEqual(['manifest.json']);
  });

  it('of many runs starting at once exactly one gets the lock', async () => {
    const dir = join(tmp, 'race');
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => lockDataset(dir, 'extract')));
    const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof lockDataset>>> => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isSeedlineError(r.reason, 'DATASET_LOCKED'), String(r.reason)).toBe(true);
    await won[0]!.value.release();
  });

  it('a stale lock (dead pid on this host) is taken over with a note; of two taking it over, one wins', async () => {
    const dir = join(tmp, 'stale');
    await mkdir(dir);
    const pid = await deadPid();
    const stale = { pid, host: hostname(), purpose: 'extract', since: '2020-01-01T00:00:00.000Z', token: 'old' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(stale));
    const taken = await lockDataset(dir, 'extract');
    expect(taken.note).toContain(`took over the lock of extract (pid ${pid} on ${hostname()}, since 2020-01-01T00:00:00.000Z)`);
    const holder = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
    expect(holder.pid).toBe(process.pid);
    await taken.release();

    await writeFile(join(dir, LOCK_FILE), JSON.stringify(stale));
    const results = await Promise.allSettled([lockDataset(dir, 'extract'), lockDataset(dir, 'extract'), lockDataset(dir, 'extract')]);
    const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof lockDataset>>>[];
    expect(won).toHaveLength(1);
    await won[0]!.value.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('a lock of another host is never taken over: its pid means nothing here', async () => {
    const file = join(tmp, 'other-host.lock');
    await writeFile(file, JSON.stringify({ pid: await deadPid(), host: 'elsewhere.example', purpose: 'seed', since: '2020-01-01T00:00:00.000Z', token: 't' }));
    const err = await acquireLock(file, 'seed', 'the checkpoint').catch((e: unknown) => e);
    expect(isSeedlineError(err, 'DATASET_LOCKED'), String(err)).toBe(true);
    expect((err as Error).message).toContain('on elsewhere.example');
    expect((err as { hint?: string }).hint).toContain(`remove ${file}`);
  });

  it('release leaves a lock that is not its own alone', async () => {
    const dir = join(tmp, 'own');
    const mine = await lockDataset(dir, 'extract');
    const other = { pid: process.pid, host: hostname(), purpose: 'transform', since: new Date().toISOString(), token: 'someone-else' };
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(other));
    await mine.release();
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8')).token).toBe('someone-else');
  });
});
