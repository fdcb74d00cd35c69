import { createReadStream } from 'node:fs';
import { join } from 'node:path';

/** One reject of a traced row, as rejects/<module>.jsonl has it. */
export interface TracedReject {
  readonly module: string;
  readonly reason: string;
  readonly detail?: string;
  /** True when the row became no event at all (absent when the file does not say). */
  readonly dropped?: boolean;
}

/**
 * The rejects of one row in the reject files of the given modules. The files are searched for
 * the bytes `"key":<key>` (as the transform writes them) and only the lines holding them are
 * parsed, so a big reject file is read at disk speed.
 */
export async function findRejects(events: string, modules: readonly string[], table: string, pkJson: string): Promise<TracedReject[]> {
  const out: TracedReject[] = [];
  const needle = Buffer.from(`"key":${pkJson}`);
  for (const module of modules) {
    for (const line of await linesHolding(join(events, 'rejects', `${module}.jsonl`), needle)) {
      const r = JSON.parse(line) as { table?: string; key?: unknown; reason?: string; detail?: string; dropped?: boolean };
      if ((r.table !== undefined && r.table !== table) || JSON.stringify(r.key) !== pkJson) continue;
      out.push({ module, reason: String(r.reason), ...(r.detail !== undefined ? { detail: r.detail } : {}), ...(r.dropped !== undefined ? { dropped: r.dropped } : {}) });
    }
  }
  return out;
}

/** The lines of a file that contain `needle`; none when the file does not exist. */
async function linesHolding(file: string, needle: Buffer): Promise<string[]> {
  const lines: string[] = [];
  let carry = Buffer.alloc(0);
  const scan = (buf: Buffer, end: number) => {
    for (let hit = buf.indexOf(needle); hit >= 0 && hit < end; hit = buf.indexOf(needle, hit + 1)) {
      const start = buf.lastIndexOf(0x0a, hit) + 1;
      const stop = buf.indexOf(0x0a, hit);
      lines.push(buf.toString('utf8', start, stop < 0 ? buf.length : stop));
      hit = stop < 0 ? buf.length : stop;
    }
  };
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const lastNewline = buf.lastIndexOf(0x0a);
      scan(buf.subarray(0, lastNewline + 1), lastNewline + 1);
      carry = Buffer.from(buf.subarray(lastNewline + 1));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (carry.length > 0) scan(carry, carry.length);
  return lines;
}
