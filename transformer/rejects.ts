import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';

/**
 * Rejected legacy rows: counted per module and reason, and (when given a directory) written as
 * JSON lines to `<dir>/<module>.jsonl`, one object per reject:
 *
 *   {"module":"chat","table":"Messages","key":42,"reason":"null-body","detail":"Body is NULL","dropped":true,"columns":{"Body":null}}
 *
 * `key` is the row's primary key in the same JSON form as an event's `source.primary_key`;
 * `dropped` says whether the row became no event at all (false: only a part of it, e.g. a
 * message whose read time is rejected is still sent); `columns` holds the columns the reason is
 * about (the module names them in `ctx.reject`), NULL as null, int64 as a decimal string, bytes
 * as base64 — never a sensitive column (declared by the module, or masked by extract), and never
 * the whole row: a reject file is passed around more freely than the dump.
 * A row with several problems is reported once per problem (so each reason counts every row
 * it applies to).
 *
 * `maxRejects`: the reject after that many stops the run (TOO_MANY_REJECTS): a module gone
 * wrong fails in seconds instead of writing a million rejects.
 */
export interface RejectRecord {
  readonly module: string;
  readonly table: string;
  readonly pkJson: string;
  readonly reason: string;
  readonly detail?: string;
  /** True when the row became no event at all; false when only a part of it was left out. */
  readonly dropped: boolean;
  /** The columns the reason is about (JSON-safe values), without sensitive ones. */
  readonly columns: Readonly<Record<string, unknown>>;
}

/** module → reason → count. */
export type RejectCounts = Record<string, Record<string, number>>;

export class RejectLog {
  private readonly dir: string | null;
  private readonly files = new Map<string, WriteStream>();
  private readonly counts: RejectCounts = {};
  private total = 0;
  private failure: unknown = null;
  private readonly maxRejects: number | undefined;

  constructor(dir: string | null, options: { maxRejects?: number } = {}) {
    this.dir = dir;
    this.maxRejects = options.maxRejects;
  }

  get count(): number {
    return this.total;
  }

  /** module → reason → count, keys sorted (stable summaries). */
  byModule(): RejectCounts {
    const out: RejectCounts = {};
    for (const module of Object.keys(this.counts).sort()) {
      const reasons = this.counts[module]!;
      out[module] = Object.fromEntries(Object.keys(reasons).sort().map((r) => [r, reasons[r]!]));
    }
    return out;
  }

  /** Records a reject; await the result only when it is a promise (the file is behind). */
  add(reject: RejectRecord): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.maxRejects !== undefined && this.total >= this.maxRejects) throw this.tooMany(reject);
    this.total++;
    const reasons = (this.counts[reject.module] ??= {});
    reasons[reject.reason] = (reasons[reject.reason] ?? 0) + 1;
    if (!this.dir) return undefined;
    const line =
      `{"module":${JSON.stringify(reject.module)},"table":${JSON.stringify(reject.table)},"key":${reject.pkJson},` +
      `"reason":${JSON.stringify(reject.reason)}${reject.detail !== undefined ? `,"detail":${JSON.stringify(reject.detail)}` : ''},` +
      `"dropped":${reject.dropped},"columns":${JSON.stringify(reject.columns)}}\n`;
    const file = this.file(reject.module);
    if (file.write(line)) return undefined;
    return new Promise((resolve) => file.once('drain', resolve));
  }

  /** The directory of the reject files, or null when nothing was written there. */
  get directory(): string | null {
    return this.files.size > 0 ? this.dir : null;
  }

  /** Paths of the files written, by module. */
  filePaths(): Record<string, string> {
    return Object.fromEntries([...this.files.keys()].sort().map((m) => [m, join(this.dir!, `${m}.jsonl`)]));
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.files.values()].map(
        (file) =>
          new Promise<void>((resolve, reject) => {
            file.once('error', reject);
            file.end(resolve);
          }),
      ),
    );
    if (this.failure) throw this.failure;
  }

  private tooMany(reject: RejectRecord): SeedlineError {
    const where = this.dir ? `; the first ${this.total} are in ${this.dir}/` : '';
    return new SeedlineError(
      'TOO_MANY_REJECTS',
      `more than --max-rejects ${this.maxRejects} rows rejected (the next: module ${reject.module}, ${reject.table} row ${reject.pkJson}, ${reject.reason})${where}`,
      {
        module: reject.module,
        table: reject.table,
        option: '--max-rejects',
        hint: 'look at the rejects and fix the module (or raise --max-rejects if the legacy data really is that dirty)',
      },
    );
  }

  private file(module: string): WriteStream {
    let file = this.files.get(module);
    if (!file) {
      // Created with the first reject: a run without rejects leaves no rejects/ directory.
      mkdirSync(this.dir!, { recursive: true });
      file = createWriteStream(join(this.dir!, `${module}.jsonl`));
      file.on('error', (err) => (this.failure ??= err));
      this.files.set(module, file);
    }
    return file;
  }
}
