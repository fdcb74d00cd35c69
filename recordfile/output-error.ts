import { SeedlineError } from '../common/errors.ts';

/**
 * What a file-system failure while writing a data set means for the user, by errno: the path
 * at fault and what to do, not "unexpected error". null for anything else (left as it is).
 */
export function outputError(err: unknown, out: string): SeedlineError | null {
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || err instanceof SeedlineError) return null;
  const path = e.path ?? out;
  const fail = (message: string, hint: string) => new SeedlineError('OUTPUT_UNWRITABLE', message, { file: path, option: 'out', hint }, { cause: err });
  switch (e.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return fail(`the disk holding ${out} is full (writing ${path})`, `free space there or pass another --out; then run again with --resume (complete parts are kept)`);
    case 'EROFS':
      return fail(`${path} is on a read-only file system`, 'pass an --out on a writable disk');
    case 'EEXIST':
      if (e.syscall !== 'mkdir') return null;
    // falls through: mkdir found a file where the directory should be
    case 'ENOTDIR':
      return fail(`${path} is a file where a directory is needed (--out ${out})`, 'pass --out a directory path (new or empty), or move the file away');
    case 'EACCES':
    case 'EPERM':
      return fail(`no permission to write ${path}`, `pass an --out this user may write to, or change the permissions of ${out}`);
    default:
      return null;
  }
}
