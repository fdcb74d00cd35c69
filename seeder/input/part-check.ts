import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import { formatCount } from '../../common/progress.ts';
import type { PartEntry } from '../../recordfile/index.ts';

/** A part whose bytes match the manifest's size and sha256: publishing reads from these bytes. */
export interface CheckedPart {
  readonly file: string;
  readonly entry: PartEntry;
  readonly bytes: Buffer;
}

/**
 * Reads a whole part and checks it against its manifest entry — size, then sha256 — before
 * any of its events may be published: a flipped bit or a truncated file is refused with
 * nothing of it sent. The file is read and hashed on libuv's thread pool (fs and WebCrypto),
 * not on the thread that publishes; the events are then decoded from the very bytes that
 * were checked, so the file cannot change in between.
 */
export async function checkPart(dir: string, entry: PartEntry): Promise<CheckedPart> {
  const file = join(dir, entry.file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new SeedlineError('CORRUPT_RECORD_FILE', `${file} cannot be read: ${messageOf(err)}`, {
      file,
      hint: 'the events data set is incomplete; run seedline transform again',
    }, { cause: err });
  }
  if (bytes.length !== entry.compressedBytes) {
    throw new SeedlineError(
      'CHECKSUM_MISMATCH',
      `${file} is ${formatCount(bytes.length)} bytes, the manifest says ${formatCount(entry.compressedBytes)} (${bytes.length < entry.compressedBytes ? 'truncated' : 'changed'}); nothing of it was published`,
      { file, hint: 'the events data set is damaged; run seedline transform again (seedline verify checks every part)' },
    );
  }
  const sha256 = Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');
  if (sha256 !== entry.sha256) {
    throw new SeedlineError('CHECKSUM_MISMATCH', `${file}: sha256 is ${sha256}, the manifest says ${entry.sha256}; nothing of it was published`, {
      file,
      hint: 'the file changed after it was written; run seedline transform again (seedline verify checks every part)',
    });
  }
  return { file, entry, bytes };
}

/**
 * The parts in order, each checked before it is handed out, and the next one already being
 * checked while the caller publishes the current one: the check is off the publishing
 * path except for the first part. At most two parts' compressed bytes are held at once.
 */
export async function* checkedParts(dir: string, parts: readonly PartEntry[]): AsyncGenerator<CheckedPart> {
  let next: Promise<CheckedPart> | null = parts.length > 0 ? checkPart(dir, parts[0]!) : null;
  try {
    for (let i = 0; i < parts.length; i++) {
      const current = await next!;
      next = i + 1 < parts.length ? checkPart(dir, parts[i + 1]!) : null;
      // A caller that stops early never awaits it: keep its failure from being unhandled.
      next?.catch(() => undefined);
      yield current;
    }
  } finally {
    next?.catch(() => undefined);
  }
}
