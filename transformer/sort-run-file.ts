import { open, rm, type FileHandle } from 'node:fs/promises';
import { SeedlineError } from '../common/errors.ts';
import { RecordSplitter, describeProblem, varint32Size, writeAll, writeVarint32 } from '../recordfile/index.ts';

/**
 * A spilled sorted run: the records in protobuf's delimited framing, NOT compressed. A run is
 * a temporary file read back once, soon after: gzip level 1 of it cost more CPU (compress and
 * gunzip again, ~14 s of 48 s on the finland dump) than the disk it saved, and disk is cheap.
 * Written and read in 4 MB blocks, so the per-call costs of fs are paid ~250 times per GB.
 */
const BLOCK_BYTES = 4 * 1024 * 1024;

export class SortRunWriter {
  readonly file: string;
  private handle: FileHandle | null;
  private block: Buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  /**
   * The other block, being written while `block` fills. Two blocks reused for the whole run:
   * fresh memory costs a page fault per 4 KB on first touch (~1 s per GB spilled on this VM).
   */
  private spare: Buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;
  private records = 0;

  private constructor(file: string, handle: FileHandle) {
    this.file = file;
    this.handle = handle;
  }

  static async create(file: string): Promise<SortRunWriter> {
    return new SortRunWriter(file, await open(file, 'w'));
  }

  get recordCount(): number {
    return this.records;
  }

  /**
   * Appends one record; await the result only when it is a promise (a block is being written)
   * before the next write: the block it writes is reused then.
   */
  write(record: Uint8Array): Promise<void> | undefined {
    const buf = Buffer.isBuffer(record) ? record : Buffer.from(record.buffer, record.byteOffset, record.byteLength);
    return this.writeRange(buf, 0, buf.length);
  }

  /** Appends `source[start, end)` as one record, without a view of it. */
  writeRange(source: Buffer, start: number, end: number): Promise<void> | undefined {
    const length = end - start;
    const needed = varint32Size(length) + length;
    let wait: Promise<void> | undefined;
    if (this.used + needed > this.block.length) {
      wait = this.flush();
      if (needed > this.block.length) this.block = Buffer.allocUnsafe(needed);
    }
    const pos = writeVarint32(this.block, this.used, length);
    source.copy(this.block, pos, start, end);
    this.used = pos + length;
    this.records++;
    return wait;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle!.close();
    this.handle = null;
  }

  async abort(): Promise<void> {
    await this.handle?.close().catch(() => {});
    this.handle = null;
    await rm(this.file, { force: true });
  }

  private flush(): Promise<void> {
    if (this.used === 0) return Promise.resolve();
    const chunk = this.block.subarray(0, this.used);
    // The block goes to the disk as is; the next records go into the spare one.
    const written = this.block;
    this.block = this.spare.length >= BLOCK_BYTES ? this.spare : Buffer.allocUnsafe(BLOCK_BYTES);
    this.spare = written;
    this.used = 0;
    return writeAll(this.handle!, chunk);
  }
}

/**
 * Read blocks shared by the runs of one merge, reused rather than allocated per read (fresh
 * memory costs a page fault per 4 KB: ~45 k faults, ~0.6 s, per GB merged on this VM). A block
 * a reader has moved past is `retire`d; it is reused only after `recycle()`, which the merge
 * calls once its consumer is done with every record view handed out so far.
 */
export class ReadBlocks {
  private readonly free: Buffer[] = [];
  private retired: Buffer[] = [];

  /** `blockBytes`: the size of one read; the merge sizes it so fan-in × blocks fits its budget. */
  constructor(readonly blockBytes = BLOCK_BYTES) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.blockBytes);
  }

  retire(block: Buffer): void {
    this.retired.push(block);
  }

  recycle(): void {
    for (const block of this.retired) this.free.push(block);
    this.retired = [];
  }
}

/**
 * The records of a run, in batches (one per block read; views into it, no copy). A damaged
 * run (the disk filled, someone edited it) is CORRUPT_RECORD_FILE naming the file and offset.
 * With `blocks`, read blocks come from and go back to that pool (see ReadBlocks).
 */
export async function* readSortRun(file: string, expectRecords?: number, blocks?: ReadBlocks): AsyncGenerator<Buffer[]> {
  const splitter = new RecordSplitter();
  const handle = await open(file, 'r').catch((err: unknown) => {
    throw new SeedlineError('CORRUPT_RECORD_FILE', `sorted run ${file} cannot be opened: ${(err as Error).message}`, { file }, { cause: err });
  });
  try {
    for (;;) {
      // The records handed out are views into the block: it is not reused until retired and recycled.
      // (The record cut at its end stays a view until the next push has copied it.)
      const block = blocks?.take() ?? Buffer.allocUnsafe(BLOCK_BYTES);
      const { bytesRead } = await handle.read(block, 0, block.length, null);
      if (bytesRead === 0) {
        blocks?.retire(block);
        break;
      }
      const batch: Buffer[] = [];
      if (!splitter.push(block.subarray(0, bytesRead), batch)) throw runError(file, describeProblem(splitter.problem!), splitter.problem!.offset);
      if (batch.length > 0) yield batch;
      blocks?.retire(block);
    }
  } finally {
    await handle.close();
  }
  if (!splitter.finish()) throw runError(file, describeProblem(splitter.problem!), splitter.problem!.offset);
  if (expectRecords !== undefined && splitter.recordCount !== expectRecords) {
    throw runError(file, `holds ${splitter.recordCount} records, ${expectRecords} were written`, splitter.byteCount);
  }
}

function runError(file: string, what: string, offset: number): SeedlineError {
  return new SeedlineError('CORRUPT_RECORD_FILE', `sorted run ${file}: ${what}`, {
    file,
    offset,
    hint: 'a temporary file of this transform was damaged (disk full?); run the transform again',
  });
}
