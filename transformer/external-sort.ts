import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PartWriter, readPartBatches } from '../recordfile/index.ts';

/**
 * Sorts byte records (by `Buffer.compare`) in bounded memory: records are copied into one
 * growing buffer (an arena, so memory is what it says: no object per record) until
 * `runBytes`, then that run is sorted and spilled to a temporary record file; at the end the
 * runs are k-way merged with a binary heap. With more runs than `fanIn`, groups of runs are
 * first merged into bigger runs, so open files and read buffers stay bounded too.
 * When everything fits in one run, nothing touches the disk.
 */
export interface ExternalSortOptions {
  /** Bytes of records (plus 16 bytes of index per record) held in memory before a run is spilled. */
  readonly runBytes: number;
  /** Where runs are spilled; created on the first spill, removed by `dispose()`. */
  readonly tmpDir: string;
  /** Most runs merged at once. */
  readonly fanIn?: number;
  /** Called between batches; throws to stop (Ctrl-C). */
  readonly checkpoint?: () => void;
}

/** Index bytes per record: offset, length and prefix as numbers. */
const INDEX_BYTES = 16;
const FIRST_ARENA_BYTES = 1024 * 1024;
const OUTPUT_BATCH = 4096;
const DEFAULT_FAN_IN = 64;

export class ExternalSorter {
  private readonly options: ExternalSortOptions;
  private readonly fanIn: number;
  private arena: Buffer = Buffer.alloc(0);
  private used = 0;
  private offsets: number[] = [];
  private lengths: number[] = [];
  /** The first 6 bytes of each record as a number: most comparisons end there. */
  private prefixes: number[] = [];
  private readonly runs: string[] = [];
  private runCounter = 0;
  private spilledRuns = 0;

  constructor(options: ExternalSortOptions) {
    this.options = options;
    this.fanIn = Math.max(2, options.fanIn ?? DEFAULT_FAN_IN);
  }

  /** Runs written to disk so far (0 when everything fit in memory). */
  get runCount(): number {
    return this.spilledRuns;
  }

  /** Adds a record (copied); await the result only when it is a promise (a run is being spilled). */
  add(record: Uint8Array): Promise<void> | undefined {
    const full = this.offsets.length > 0 && this.used + record.length + (this.offsets.length + 1) * INDEX_BYTES > this.options.runBytes;
    if (full) return this.spill().then(() => void this.append(record));
    this.append(record);
    return undefined;
  }

  /** All records in order, in batches. Call once, after the last `add`. */
  async *sorted(): AsyncGenerator<Buffer[]> {
    if (this.runs.length === 0) {
      yield* this.sortedInMemory();
      return;
    }
    if (this.offsets.length > 0) await this.spill();
    while (this.runs.length > this.fanIn) {
      const group = this.runs.splice(0, this.fanIn);
      const merged = await this.writeRun(mergeRuns(group, this.options.checkpoint));
      for (const file of group) await rm(file, { force: true });
      this.runs.push(merged);
    }
    yield* mergeRuns(this.runs, this.options.checkpoint);
  }

  /** Removes the spilled runs. */
  async dispose(): Promise<void> {
    this.reset();
    await rm(this.options.tmpDir, { recursive: true, force: true });
  }

  private append(record: Uint8Array): void {
    if (this.used + record.length > this.arena.length) this.grow(this.used + record.length);
    this.arena.set(record, this.used);
    this.offsets.push(this.used);
    this.lengths.push(record.length);
    this.prefixes.push(prefixOf(record));
    this.used += record.length;
  }

  private grow(needed: number): void {
    let size = Math.max(FIRST_ARENA_BYTES, this.arena.length * 2);
    while (size < needed) size *= 2;
    size = Math.max(needed, Math.min(size, this.options.runBytes));
    const bigger = Buffer.allocUnsafe(size);
    this.arena.copy(bigger, 0, 0, this.used);
    this.arena = bigger;
  }

  /** Views of the buffered records in order; the arena is handed over and the sorter reset. */
  private *sortedInMemory(): Generator<Buffer[]> {
    const { arena, offsets, lengths } = this;
    const order = this.sortIndex();
    this.reset();
    for (let i = 0; i < order.length; i += OUTPUT_BATCH) {
      const batch: Buffer[] = [];
      for (let j = i; j < Math.min(i + OUTPUT_BATCH, order.length); j++) {
        const r = order[j]!;
        batch.push(arena.subarray(offsets[r]!, offsets[r]! + lengths[r]!));
      }
      yield batch;
    }
  }

  private sortIndex(): number[] {
    const { arena, offsets, lengths, prefixes } = this;
    const order = Array.from({ length: offsets.length }, (_, i) => i);
    order.sort((a, b) => {
      const pa = prefixes[a]!;
      const pb = prefixes[b]!;
      if (pa !== pb) return pa < pb ? -1 : 1;
      const oa = offsets[a]!;
      const ob = offsets[b]!;
      return arena.compare(arena, ob, ob + lengths[b]!, oa, oa + lengths[a]!);
    });
    return order;
  }

  private reset(): void {
    this.arena = Buffer.alloc(0);
    this.used = 0;
    this.offsets = [];
    this.lengths = [];
    this.prefixes = [];
  }

  private async spill(): Promise<void> {
    const run = await this.writeRun(this.sortedInMemory());
    this.runs.push(run);
    this.spilledRuns++;
  }

  private async writeRun(batches: AsyncIterable<Buffer[]> | Iterable<Buffer[]>): Promise<string> {
    await mkdir(this.options.tmpDir, { recursive: true });
    const name = `run-${String(this.runCounter++).padStart(6, '0')}.pb.gz`;
    const file = join(this.options.tmpDir, name);
    // Level 1: runs are read back once, soon; speed matters more than size.
    const writer = await PartWriter.create(file, name, { gzipLevel: 1 });
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
    return file;
  }
}

/**
 * The first 6 bytes as a big-endian number, zero-padded: comparing prefixes agrees with
 * comparing bytes whenever the prefixes differ (a shorter record pads with 0, which sorts first).
 */
function prefixOf(record: Uint8Array): number {
  let p = 0;
  for (let i = 0; i < 6; i++) p = p * 256 + (i < record.length ? record[i]! : 0);
  return p;
}

/** A sorted run being read: the current record and the rest of its batch. */
class RunCursor {
  readonly order: number;
  private readonly batches: AsyncGenerator<Buffer[]>;
  private batch: Buffer[] = [];
  private index = 0;

  constructor(file: string, order: number) {
    this.order = order;
    this.batches = readPartBatches(file);
  }

  get head(): Buffer {
    return this.batch[this.index]!;
  }

  /** Moves to the next record; false at the end. Synchronous within a batch. */
  advance(): boolean | Promise<boolean> {
    if (++this.index < this.batch.length) return true;
    return this.load();
  }

  async load(): Promise<boolean> {
    for (;;) {
      const next = await this.batches.next();
      if (next.done) return false;
      if (next.value.length > 0) {
        this.batch = next.value;
        this.index = 0;
        return true;
      }
    }
  }

  close(): void {
    void this.batches.return(undefined);
  }
}

function before(a: RunCursor, b: RunCursor): boolean {
  const c = Buffer.compare(a.head, b.head);
  return c < 0 || (c === 0 && a.order < b.order);
}

/** k-way merge of sorted run files with a binary min-heap of cursors. */
async function* mergeRuns(files: readonly string[], checkpoint?: () => void): AsyncGenerator<Buffer[]> {
  const heap: RunCursor[] = [];
  const cursors = files.map((file, i) => new RunCursor(file, i));
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
