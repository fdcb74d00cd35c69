import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { StreamEntry } from '../recordfile/index.ts';
import { unaccounted, type Term } from './balance.ts';

/**
 * The parts of one stream as they are on disk: records in the parts that are there with the
 * size the manifest gives, and a term per part that is missing or of another size. A stat per
 * part, no reading: `seedline verify` checks every sha256 when that is wanted.
 */
export interface PartFiles {
  /** Records of the parts present with the manifest's size. */
  readonly records: number;
  readonly present: number;
  readonly problems: readonly Term[];
  /** Relative paths of the parts that are missing or damaged (the scan skips them). */
  readonly bad: ReadonlySet<string>;
}

export async function checkPartFiles(dir: string, stream: StreamEntry): Promise<PartFiles> {
  let records = 0;
  let present = 0;
  const problems: Term[] = [];
  const bad = new Set<string>();
  for (const part of stream.parts) {
    const size = await stat(join(dir, part.file)).then((s) => s.size, () => null);
    if (size === null) {
      problems.push(unaccounted(`${part.file} is missing`, part.records));
      bad.add(part.file);
    } else if (size !== part.compressedBytes) {
      problems.push(unaccounted(`${part.file} is ${size} bytes, the manifest says ${part.compressedBytes}`, part.records));
      bad.add(part.file);
    } else {
      records += part.records;
      present++;
    }
  }
  return { records, present, problems, bad };
}
