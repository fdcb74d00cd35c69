import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sortIndex } from './sort-index.ts';
import { ReadBlocks, SortRunWriter, readSortRun } from './sort-run-file.ts';

/**
 * Sorts byte records (by `Buffer.compare`) in bounded memory: records are copied into one
 * growing buffer (an arena, so memory is what it says: no object per record) until
 * `runBytes`, then that run is sorted and spilled to a temporary record file; at the end the
 * runs are k-way merged with a binary heap. Runs are plain framed records (sort-run-file.ts). With more runs than `fanIn`, groups of runs are
 * first merged into bigger runs, so open files and read buffers stay bounded too.
 * The last run is merged straight from memory; when everything fits in one run, nothing touches the disk.
 */
export interface ExternalSortOptions {
  /** Bytes of records (plus 16 bytes of index per record) held in memory before a run is spilled. */
  readonly runBytes: number;
  /** Where runs are spilled; created on the first spill, removed by `dispose()`. */
  readonly tmpDir: string;
  /** Most runs merged at once (an upper bound: `mergeBytes` may allow fewer). */
  readonly fanIn?: number;
  /**
   * Bytes the merge may hold in read blocks (about one per run merged at once, plus two):
   * the block size and fan-in are chosen to fit. Default: `runBytes`. A run's arena stays
   * allocated through the merge (the last run is merged from memory), so the sorter holds
   * about runBytes + mergeBytes + 8 MB (the two write blocks of a run being written).
   */
  readonly mergeBytes?: number;
  /** Called between batches; throws to stop (Ctrl-C). */
  readonly checkpoint?: () => void;
}

/** Index bytes per record: chunk, offset, length, first 8 bytes (two uint32), plus the sort order and its spare. */
const INDEX_BYTES = 28;
/**
 * Records are copied into chunks of up to this size (a record larger than that gets its own).
 * Chunks are kept from one run to the next: fresh memory costs a page fault per 4 KB on first
 * touch, which is most of the cost of a naive doubling arena.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
const FIRST_INDEX = 16 * 1024;
const OUTPUT_BATCH = 4096;
const DEFAULT_FAN_IN = 64;
/** Read block sizes for the merge: large blocks mean fewer reads, small ones a wider fan-in within the budget. */
const MAX_READ_BLOCK = 4 * 1024 * 1024;
const MIN_READ_BLOCK = 64 * 1024;
/**
 * JS heap one record costs while it waits in a merge: the Buffer view of it in its run's batch
 * (and, once promoted, the garbage it leaves). The read blocks hold the bytes; their records'
 * views are JS objects of their own. With 64 runs merged at once, finland-x10's merge held
 * ~140 MB of views beside 111 MB of blocks (records of ~340 B): the peak went 80 MB over the
 * promise. Blocks get the share of the merge's bytes that leaves room for their views.
 */
const VIEW_BYTES = 400;

export class ExternalSorter {
  private readonly options: ExternalSortOptions;
  private readonly mergeBytes: number;
  /** Record bytes and records spilled so far: their average sizes the merge's read blocks. */
  private spilledBytes = 0;
  private spilledRecords = 0;
  private chunks: Buffer[] = [];
  /** Chunk being filled, and bytes used in it. */
  private chunk = -1;
  private chunkUsed = 0;
  /** Bytes of this run's records. Chunks hold a little more: the unused end of each, at most one chunk's worth. */
  private used = 0;
  private readonly chunkBytes: number;
  private count = 0;
  private chunkOf = new Int32Array(FIRST_INDEX);
  private offsetOf = new Int32Array(FIRST_INDEX);
  private lengthOf = new Int32Array(FIRST_INDEX);
  /** The first 8 bytes of each record (zero-padded) as two numbers: the radix sort's keys. */
  private hiOf = new Uint32Array(FIRST_INDEX);
  private loOf = new Uint32Array(FIRST_INDEX);
  private readonly runs: string[] = [];
  /** Records written to each run file, checked when it is read back. */
  private readonly runRecords = new Map<string, number>();
  private runCounter = 0;
  private spilledRuns = 0;

  constructor(options: ExternalSortOptions) {
    this.options = options;
    this.mergeBytes = options.mergeBytes ?? options.runBytes;
    this.chunkBytes = Math.min(CHUNK_BYTES, Math.max(64 * 1024, Math.floor(options.runBytes / 16)));
  }

  /** Runs written to disk so far (0 when everything fit in memory). */
  get runCount(): number {
    return this.spilledRuns;
  }

  /**
   * Adds a record. It is copied before `add` returns, so the caller may reuse its buffer at
   * once; await the result only when it is a promise (a run is being spilled).
   */
  add(record: Uint8Array): Promise<void> | undefined {
    const full = this.count > 0 && this.used + record.length + (this.count + 1) * INDEX_BYTES > this.options.runBytes;
    if (full) {
      const copy = Buffer.from(record);
      return this.spill().then(() => this.append(copy));
    }
    this.append(record);
    return undefined;
  }

  /** All records in order, in batches. Call once, after the last `add`. */
  async *sorted(): AsyncGenerator<Buffer[]> {
    if (this.runs.length === 0) {
      yield* this.sortedInMemory(true);
      return;
    }
    // The records still in memory are the last run: merged from memory, not spilled and read back.
    const inMemory = this.count > 0 ? 1 : 0;
    // The blocks' share of the merge's bytes, the rest for the views of the records in them.
    const average = this.spilledBytes / Math.max(1, this.spilledRecords);
    const { fanIn, readBlock } = mergeShape(Math.floor((this.mergeBytes * average) / (average + VIEW_BYTES)), this.options.fanIn);
    while (this.runs.length + inMemory > fanIn) {
      const group = this.runs.splice(0, fanIn);
      const merged = await this.writeRun(mergeRuns(this.sources(group), readBlock, this.options.checkpoint));
      for (const file of group) {
        await rm(file, { force: true });
        this.runRecords.delete(file);
      }
      this.runs.push(merged);
    }
    const sources = this.sources(this.runs);
    if (inMemory) sources.push(() => toAsync(this.sortedInMemory(true)));
    else this.release();
    yield* mergeRuns(sources, readBlock, this.options.checkpoint);
  }

  /** The batches of each run file, read with `blocks`, checked against the records written. */
  private sources(files: readonly string[]): RunSource[] {
    return files.map((file) => {
      const records = this.runRecords.get(file)!;
      return (blocks: ReadBlocks) => readSortRun(file, records, blocks);
    });
  }

  /** Removes the spilled runs. */
  async dispose(): Promise<void> {
    this.release();
    await rm(this.options.tmpDir, { recursive: true, force: true });
  }

  /**
   * Adds every record of a batch in protobuf delimited framing (what the generation workers
   * send). Each record is indexed where it will lie, and the batch is copied into the arena in
   * as few spans as fit the chunks (framing bytes and all), not record by record: a copy call
   * per record cost more than its bytes (~0.8 µs each, 1.8 s of the finland transform).
   */
  async addFramed(framed: Buffer): Promise<void> {
    let pos = 0;
    /** `framed[spanStart, spanEnd)` goes to the current chunk at `spanTarget` when the span ends. */
    let spanStart = 0;
    let spanEnd = 0;
    let spanTarget = 0;
    while (pos < framed.length) {
      const recordStart = pos;
      let length = 0;
      let shift = 0;
      let b = 0x80;
      while (b & 0x80) {
        if (pos >= framed.length || shift > 28) throw new Error(`damaged batch of sort records at byte ${pos}`);
        b = framed[pos++]!;
        length += (b & 0x7f) * 2 ** shift;
        shift += 7;
      }
      const end = pos + length;
      if (end > framed.length) throw new Error(`damaged batch of sort records: a record runs past its end at byte ${pos}`);
      const chunk = this.chunks[this.chunk];
      const full = this.count > 0 && this.used + length + (this.count + 1) * INDEX_BYTES > this.options.runBytes;
      // The span grows by this record (and the framing before it) while the chunk has room.
      if (full || spanEnd === spanStart || !chunk || this.chunkUsed + (end - recordStart) > chunk.length) {
        if (spanEnd > spanStart) this.chunks[this.chunk]!.set(framed.subarray(spanStart, spanEnd), spanTarget);
        if (full) await this.spill();
        this.moveToChunkFor(length);
        spanStart = pos;
        spanTarget = this.chunkUsed;
      }
      this.index(framed, pos, end, spanTarget + (pos - spanStart));
      spanEnd = end;
      pos = end;
    }
    if (spanEnd > spanStart) this.chunks[this.chunk]!.set(framed.subarray(spanStart, spanEnd), spanTarget);
  }

  private append(record: Uint8Array): void {
    const buf = Buffer.isBuffer(record) ? record : Buffer.from(record.buffer, record.byteOffset, record.byteLength);
    this.moveToChunkFor(buf.length);
    const offset = this.chunkUsed;
    buf.copy(this.chunks[this.chunk]!, offset);
    this.index(buf, 0, buf.length, offset);
  }

  /** Makes the current chunk one with room for `length` more bytes. */
  private moveToChunkFor(length: number): void {
    const chunk = this.chunks[this.chunk];
    if (chunk && this.chunkUsed + length <= chunk.length) return;
    this.chunk++;
    const next = this.chunks[this.chunk];
    if (!next || next.length < length) {
      // a too-small chunk moves up, for the next records
      this.chunks.splice(this.chunk, 0, Buffer.allocUnsafe(Math.max(this.chunkBytes, length)));
    }
    this.chunkUsed = 0;
  }

  /** Indexes `source[start, end)` as the next record, at `offset` of the current chunk (copied there by the caller). */
  private index(source: Buffer, start: number, end: number, offset: number): void {
    const i = this.count;
    if (i === this.chunkOf.length) this.growIndex();
    const length = end - start;
    this.chunkOf[i] = this.chunk;
    this.offsetOf[i] = offset;
    this.lengthOf[i] = length;
    this.hiOf[i] = uint32At(source, start, end);
    this.loOf[i] = uint32At(source, start + 4, end);
    this.chunkUsed = offset + length;
    this.used += length;
    this.count++;
  }

  private growIndex(): void {
    const size = this.chunkOf.length * 2;
    const grow = <T extends Int32Array | Uint32Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.chunkOf = grow(this.chunkOf, new Int32Array(size));
    this.offsetOf = grow(this.offsetOf, new Int32Array(size));
    this.lengthOf = grow(this.lengthOf, new Int32Array(size));
    this.hiOf = grow(this.hiOf, new Uint32Array(size));
    this.loOf = grow(this.loOf, new Uint32Array(size));
  }

  /**
   * Views of the buffered records in order. `last`: the chunks are handed over to the views
   * and the sorter forgets them; otherwise (a spill) they are kept for the next run, so the
   * views must be consumed before the next `add`.
   */
  private *sortedInMemory(last: boolean): Generator<Buffer[]> {
    const { chunks, chunkOf, offsetOf, lengthOf } = this;
    const order = this.sortIndex();
    if (last) this.release();
    else this.clear();
    for (let i = 0; i < order.length; i += OUTPUT_BATCH) {
      const batch: Buffer[] = [];
      for (let j = i; j < Math.min(i + OUTPUT_BATCH, order.length); j++) {
        const r = order[j]!;
        const offset = offsetOf[r]!;
        batch.push(chunks[chunkOf[r]!]!.subarray(offset, offset + lengthOf[r]!));
      }
      yield batch;
    }
  }

  private sortIndex(): Uint32Array {
    const { chunks, chunkOf, offsetOf, lengthOf } = this;
    return sortIndex(this.count, this.hiOf, this.loOf, (a, b) => {
      const oa = offsetOf[a]!;
      const ob = offsetOf[b]!;
      return chunks[chunkOf[a]!]!.compare(chunks[chunkOf[b]!]!, ob, ob + lengthOf[b]!, oa, oa + lengthOf[a]!);
    });
  }

  /** Forgets the records, keeps the chunks for the next run. */
  private clear(): void {
    this.chunk = -1;
    this.chunkUsed = 0;
    this.used = 0;
    this.count = 0;
  }

  /** Forgets the records and the chunks. */
  private release(): void {
    this.clear();
    this.chunks = [];
    this.chunkOf = new Int32Array(FIRST_INDEX);
    this.offsetOf = new Int32Array(FIRST_INDEX);
    this.lengthOf = new Int32Array(FIRST_INDEX);
    this.hiOf = new Uint32Array(FIRST_INDEX);
    this.loOf = new Uint32Array(FIRST_INDEX);
  }

  /** Writes the buffered records in order straight from the arena (no Buffer per record) and forgets them. */
  private async spill(): Promise<void> {
    const { chunks, chunkOf, offsetOf, lengthOf } = this;
    const order = this.sortIndex();
    await mkdir(this.options.tmpDir, { recursive: true });
    const file = join(this.options.tmpDir, `run-${String(this.runCounter++).padStart(6, '0')}.pb`);
    const writer = await SortRunWriter.create(file);
    try {
      for (let j = 0; j < order.length; j++) {
        const r = order[j]!;
        const offset = offsetOf[r]!;
        const wait = writer.writeRange(chunks[chunkOf[r]!]!, offset, offset + lengthOf[r]!);
        if (wait) await wait;
        if ((j & 0xffff) === 0) this.options.checkpoint?.();
      }
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    this.spilledBytes += this.used;
    this.spilledRecords += this.count;
    this.clear();
    this.runRecords.set(file, writer.recordCount);
    this.runs.push(file);
    this.spilledRuns++;
  }

  private async writeRun(batches: AsyncIterable<Buffer[]> | Iterable<Buffer[]>): Promise<string> {
    await mkdir(this.options.tmpDir, { recursive: true });
    const file = join(this.options.tmpDir, `run-${String(this.runCounter++).padStart(6, '0')}.pb`);
    const writer = await SortRunWriter.create(file);
    try {
      for await (const batch of batches) {
        this.options.checkpoint?.();
        for (const record of batch) {
          const wait = writer.write(record);
          if (wait) await wait;
        }
      }
      await writer.close();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    this.runRecords.set(file, writer.recordCount);
    return file;
  }
}

/**
 * Fan-in × read block stays within `blockBytes`: blocks shrink first, then (below the smallest
 * block) fewer runs are merged at once, in more passes.
 */
function mergeShape(blockBytes: number, fanInOption: number | undefined): { fanIn: number; readBlock: number } {
  let fanIn = Math.max(2, fanInOption ?? DEFAULT_FAN_IN);
  let readBlock = Math.min(MAX_READ_BLOCK, Math.floor(blockBytes / (fanIn + 2)));
  if (readBlock < MIN_READ_BLOCK) {
    readBlock = MIN_READ_BLOCK;
    // (Never under 16 runs at once: a budget that small is refused by the CLI; tests use tiny runs.)
    fanIn = Math.min(fanIn, Math.max(16, Math.floor(blockBytes / MIN_READ_BLOCK) - 2));
  }
  return { fanIn, readBlock };
}

/**
 * 4 bytes as a big-endian unsigned number, zero-padded past `end`: ordering by these numbers
 * agrees with ordering by bytes whenever they differ (a shorter record pads with 0, which sorts first).
 */
function uint32At(source: Uint8Array, start: number, end: number): number {
  if (start + 4 <= end) return ((source[start]! << 24) | (source[start + 1]! << 16) | (source[start + 2]! << 8) | source[start + 3]!) >>> 0;
  let v = 0;
  for (let i = start; i < start + 4; i++) v = v * 256 + (i < end ? source[i]! : 0);
  return v;
}

/** A sorted run being read: the current record (and its first 8 bytes as numbers) and the rest of its batch. */
class RunCursor {
  readonly order: number;
  private readonly batches: AsyncGenerator<Buffer[]>;
  private batch: Buffer[] = [];
  private index = 0;
  head: Buffer = EMPTY;
  /** The head's first 8 bytes: most comparisons in the merge end there, without a call into C++. */
  hi = 0;
  lo = 0;

  constructor(batches: AsyncGenerator<Buffer[]>, order: number) {
    this.order = order;
    this.batches = batches;
  }

  /** Moves to the next record; false at the end. Synchronous within a batch. */
  advance(): boolean | Promise<boolean> {
    if (++this.index < this.batch.length) {
      this.setHead(this.batch[this.index]!);
      return true;
    }
    return this.load();
  }

  async load(): Promise<boolean> {
    for (;;) {
      const next = await this.batches.next();
      if (next.done) return false;
      if (next.value.length > 0) {
        this.batch = next.value;
        this.index = 0;
        this.setHead(this.batch[0]!);
        return true;
      }
    }
  }

  close(): void {
    void this.batches.return(undefined);
  }

  private setHead(record: Buffer): void {
    this.head = record;
    this.hi = uint32At(record, 0, record.length);
    this.lo = uint32At(record, 4, record.length);
  }
}

const EMPTY = Buffer.alloc(0);

function before(a: RunCursor, b: RunCursor): boolean {
  if (a.hi !== b.hi) return a.hi < b.hi;
  if (a.lo !== b.lo) return a.lo < b.lo;
  const c = Buffer.compare(a.head, b.head);
  return c < 0 || (c === 0 && a.order < b.order);
}

/** A sorted run's batches: a run file read with the merge's shared blocks, or the run kept in memory. */
type RunSource = (blocks: ReadBlocks) => AsyncGenerator<Buffer[]>;

async function* toAsync(batches: Iterable<Buffer[]>): AsyncGenerator<Buffer[]> {
  yield* batches;
}

/** k-way merge of sorted runs with a binary min-heap of cursors. */
async function* mergeRuns(runs: readonly RunSource[], readBlock: number, checkpoint?: () => void): AsyncGenerator<Buffer[]> {
  const heap: RunCursor[] = [];
  const blocks = new ReadBlocks(readBlock);
  const cursors = runs.map((run, i) => new RunCursor(run(blocks), i));
  try {
    for (const cursor of cursors) if (await cursor.load()) heapPush(heap, cursor);
    let out: Buffer[] = [];
    while (heap.length > 0) {
      const top = heap[0]!;
      out.push(top.head);
      const step = top.advance();
      const more = step === true || step === false ? step : await step;
      if (more) siftDown(heap, 0);
      else {
        const last = heap.pop()!;
        if (heap.length > 0 && last !== top) {
          heap[0] = last;
          siftDown(heap, 0);
        }
      }
      if (out.length >= OUTPUT_BATCH) {
        checkpoint?.();
        yield out;
        out = [];
        blocks.recycle(); // the consumer is done with the views in out: blocks read past may be reused
      }
    }
    if (out.length > 0) yield out;
  } finally {
    for (const cursor of cursors) cursor.close();
  }
}

function heapPush(heap: RunCursor[], cursor: RunCursor): void {
  heap.push(cursor);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i]!, heap[parent]!)) break;
    [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
    i = parent;
  }
}

function siftDown(heap: RunCursor[], i: number): void {
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
    if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
    if (smallest === i) return;
    [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
    i = smallest;
  }
}
