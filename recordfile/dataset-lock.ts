import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';

/**
 * One run at a time per data set (or per seed checkpoint): a lock file holding the pid, the
 * host and what the run does. Taken atomically — the content is written under a private name
 * and hard-linked to the lock's name, which fails when the name exists — so a second run sees
 * either no lock or a complete one. A lock whose pid is dead on this host is stale (a crash,
 * a kill -9) and taken over with a note; one from another host is never guessed about.
 */
export const LOCK_FILE = '.seedline.lock';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** What the holder does, e.g. `extract`, `transform`, `seed`. */
  readonly purpose: string;
  readonly since: string;
  /** Tells this lock from a later one in the same place (release removes only its own). */
  readonly token: string;
}

export interface HeldLock {
  readonly file: string;
  /** Set when a stale lock was taken over: what to tell the user. */
  readonly note?: string;
  release(): Promise<void>;
}

/** Locks the data set directory `dir` (created when missing, and removed again on release if still empty). */
export async function lockDataset(dir: string, purpose: string): Promise<HeldLock> {
  const existed = await stat(dir).then(() => true, () => false);
  const lock = await acquireLock(join(dir, LOCK_FILE), purpose, dir);
  if (existed) return lock;
  return { ...lock, release: () => lock.release().then(() => rmdir(dir).catch(() => {})) };
}

/** Locks `file` (any path; its directory must exist or be creatable); `what` names the locked thing in messages. */
export async function acquireLock(file: string, purpose: string, what: string): Promise<HeldLock> {
  const me: LockHolder = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true });
  const mine = `${file}.${me.token}`;
  await writeFile(mine, JSON.stringify(me) + '\n');
  let note: string | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw err;
      }
      const holder = await readHolder(file);
      if (holder && !isStale(holder)) throw busy(what, file, holder);
      // Moved aside, not deleted: of two runs taking over the same stale lock, only one moves
      // the stale file; the other finds the new holder's lock there and puts it back.
      const aside = `${file}.stale-${me.token}`;
      try {
        await rename(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = await readHolder(aside);
      // Not the lock judged stale (also when that read found nothing: the file was between two
      // takers) and alive: another run took it over first.
      if (moved && moved.token !== holder?.token && !isStale(moved)) {
        await link(aside, file).catch(() => {});
        await unlink(aside).catch(() => {});
        throw busy(what, file, moved);
      }
      await unlink(aside).catch(() => {});
      note = holder
        ? `took over the lock of ${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.since}), which no longer runs`
        : `replaced an unreadable lock file ${file}`;
    }
  } finally {
    await unlink(mine).catch(() => {});
  }
  return {
    file,
    ...(note ? { note } : {}),
    release: async () => {
      const now = await readHolder(file);
      if (now?.token === me.token) await unlink(file).catch(() => {});
    },
  };
}

async function readHolder(file: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? (parsed as LockHolder) : null;
  } catch {
    return null; // gone, or half a file from something else: treated as stale
  }
}

/** Dead pid on this host. A lock of another host is never stale: its pid means nothing here. */
function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function busy(what: string, file: string, holder: LockHolder): SeedlineError {
  return new SeedlineError('DATASET_LOCKED', `${what} is in use by ${holder.purpose} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`, {
    file,
    hint:
      holder.host === hostname()
        ? `wait for that run to end, or stop it (kill ${holder.pid}) and run again; a lock of a process that no longer runs is taken over by itself`
        : `that run is on another machine: wait for it to end; if it is gone for good, remove ${file}`,
  });
}
