import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** One reject of a traced row, as rejects/<module>.jsonl has it. */
export interface TracedReject {
  readonly module: string;
  readonly reason: string;
  readonly detail?: string;
  /** True when the row became no event at all (absent when the file does not say). */
  readonly dropped?: boolean;
}

/**
 * The rejects of one row in the reject files of the given modules: a text test on each line
 * (the key's JSON must appear in it) before parsing, so a big reject file is read at disk speed.
 */
export async function findRejects(events: string, modules: readonly string[], table: string, pkJson: string): Promise<TracedReject[]> {
  const out: TracedReject[] = [];
  for (const module of modules) {
    const input = createReadStream(join(events, 'rejects', `${module}.jsonl`));
    const opened = await new Promise<boolean>((resolve) => {
      input.once('open', () => resolve(true));
      input.once('error', () => resolve(false));
    });
    if (!opened) continue;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (!line.includes(pkJson)) continue;
      const r = JSON.parse(line) as { table?: string; key?: unknown; reason?: string; detail?: string; dropped?: boolean };
      if ((r.table !== undefined && r.table !== table) || JSON.stringify(r.key) !== pkJson) continue;
      out.push({ module, reason: String(r.reason), ...(r.detail !== undefined ? { detail: r.detail } : {}), ...(r.dropped !== undefined ? { dropped: r.dropped } : {}) });
    }
  }
  return out;
}
