import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { MANIFEST_FILE, readManifest } from '../recordfile/index.ts';

/**
 * What transform may write to. A transform reads its dump for minutes and its output
 * directory is wiped by `--overwrite`, so a slip of the keyboard (`--out` = `--dump`, or an
 * `--out` that holds a dump) once deleted the very dump being read. Refused here, before
 * anything is written:
 * - `--out` the same directory as `--dump`, inside it, or holding it (symlinks resolved);
 * - an `--out` whose manifest.json is not an events data set written by transform (a dump, a
 *   fixture, an unreadable manifest): neither `--overwrite` nor the clean-up of an interrupted
 *   run may remove it. `--overwrite` replaces only an events data set.
 */
export async function checkTransformOutput(dump: string, out: string): Promise<void> {
  const dumpPath = await realpath(dump);
  const outPath = await realpathOfMaybeMissing(out);
  if (outPath === dumpPath || isInside(outPath, dumpPath) || isInside(dumpPath, outPath)) {
    const how = outPath === dumpPath ? 'is' : isInside(outPath, dumpPath) ? 'is inside' : 'contains';
    throw new SeedlineError('USAGE', `--out ${out} ${how} the dump being read (--dump ${dump}): the transform never writes into, over or inside its input`, {
      option: '--out',
      file: out,
      hint: 'write the events to a directory of their own, e.g. --out events',
    });
  }
  if (!(await exists(join(out, MANIFEST_FILE)))) return; // new, empty or foreign: DatasetWriter.create decides
  const manifest = await readManifest(out).catch((err: SeedlineError) => {
    throw new SeedlineError('OUTPUT_EXISTS', `${out} holds a ${MANIFEST_FILE} that cannot be read (${err.message}); transform will not replace what it cannot identify`, {
      file: join(out, MANIFEST_FILE),
      option: '--out',
      hint: `choose another --out, or delete ${out} yourself if it is an events data set you no longer need`,
    });
  });
  const stage = manifest.producer?.stage;
  if (stage !== 'transform') {
    throw new SeedlineError('OUTPUT_EXISTS', `${out} holds a data set written by ${stage ?? 'an unknown stage'} (a dump, not events); --overwrite replaces only an events data set`, {
      file: join(out, MANIFEST_FILE),
      option: '--out',
      hint: 'choose another --out for the events',
    });
  }
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The real path of `path`, resolving the part that exists (the rest does not exist yet, so holds no symlink). */
async function realpathOfMaybeMissing(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    const parent = dirname(absolute);
    if (parent === absolute) return absolute;
    return join(await realpathOfMaybeMissing(parent), basename(absolute));
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
