import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { constants, crc32, deflateRaw } from 'node:zlib';
import { writeVarint32, varint32Size } from './framing.ts';
import type { PartEntry } from './manifest.ts';

export interface PartWriterOptions {
  /** gzip level 0-9. zlib runs on libuv's thread pool, off the thread that produces records. */
  readonly gzipLevel?: number;
  /**
   * Never wait for gzip: hand it every batch at once and let it buffer (up to the whole part).
   * Only with a bound on the part's size: StreamWriter uses it to compress parts in parallel.
   */
  readonly unbounded?: boolean;
}

/**
 * Records are gathered into batches of about this size; each batch is compressed as one
 * segment of the part's deflate stream. Each batch is a round trip between the main thread and
 * libuv's pool: at 1 MB rather than 256 KB, a 1.2 M-row extract switches context ~10 k rather
 * than ~23 k times and spends ~10 % less CPU.
 */
const BATCH_BYTES = 1024 * 1024;

/**
 * Batch buffers zlib has finished with, for the next batches (of any part on this thread).
 * A fresh 256 KB buffer per flush was ~670 MB of allocation per 1.2 M-row extract, much of
 * the garbage collector's work. A batch comes back only once its segment is compressed: zlib
 * reads it on libuv's pool until then. Parts written in parallel (`unbounded`) may hold many
 * batches at once; past this many spare ones, returned batches are left to the collector.
 */
const spareBatches: Buffer[] = [];
const MAX_SPARE_BATCHES = 4;

/**
 * Segments being compressed or waiting for the file before the producer waits: two compress at
 * once (libuv's pool has 4 threads) while a third is queued, so one part keeps two cores busy.
 */
const MAX_SEGMENTS_IN_FLIGHT = 3;

/** Compressed segments that may wait for the file before the producer waits. */
const MAX_PENDING_WRITES = 4;

/** Each segment starts with the previous one's last 32 KB as its dictionary: the deflate window. */
const DICTIONARY_BYTES = 32 * 1024;

/**
 * Output buffer of one segment's deflate (zlib allocates one per segment, and more if it fills):
 * a batch compressed at level 1 or more fits in half a MB, so half the 1 MB+ buffers that
 * otherwise drive the collector (by external memory) for bytes never used.
 */
const SEGMENT_OUT_BYTES = 512 * 1024;

/**
 * zlib's memLevel 9 (default 8): a 64 K-entry hash table instead of 32 K, ~200 KB more per
 * segment being compressed. At level 1 on finland's Messages ~5% less CPU and 0.2% smaller:
 * fewer hash collisions. Same level, same format.
 */
const MEM_LEVEL = 9;

/** Ends a deflate stream whose last segment ended with a sync flush: an empty final block. */
const FINAL_EMPTY_BLOCK = Buffer.from([0x03, 0x00]);

function takeBatch(): Buffer {
  return spareBatches.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
}

/** gzip's header as zlib writes it (no name, no mtime; XFL by level; OS 3, Unix). */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level < 2 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

interface Segment {
  out: Buffer | null;
  done: boolean;
}

/**
 * Writes one part: framed records → gzip → a temporary file beside the final name.
 * `close()` flushes, fsyncs and renames it into place, so a reader never sees half a part.
 * `abort()` removes the temporary file.
 *
 * The part is one gzip member whose deflate stream is compressed in segments (pigz's way):
 * each batch is deflated on its own, primed with the previous batch's last 32 KB and ended
 * with a sync flush (byte-aligned, no final block), so segments compress in parallel on
 * libuv's pool and their outputs, concatenated in order, are one valid deflate stream; an
 * empty final block, the CRC-32 (computed here, over the batches) and the length end it.
 * With one worker, zlib was one thread: the longest chain of the run. The bytes depend only
 * on the records (batch boundaries), not on timing.
 */
export class PartWriter {
  readonly file: string;
  readonly tmpFile: string;
  private readonly relativeName: string;
  private readonly level: number;
  private readonly hash = createHash('sha256');
  private handle: FileHandle | null = null;
  private batch: Buffer = takeBatch();
  private batchUsed = 0;
  private records = 0;
  private uncompressed = 0;
  private compressed = 0;
  private crc = 0;
  /** The last 32 KB given to the previous segment, for the next one. */
  private dictionary: Buffer | null = null;
  private writeChain: Promise<void> = Promise.resolve();
  /** Segments handed to zlib whose output has not been handed to the file yet, in order. */
  private readonly segments: Segment[] = [];
  /** Compressed segments waiting for the file. */
  private pendingWrites = 0;
  /** The producer waiting for room (segments or writes); woken when either drains. */
  private wake: (() => void) | null = null;
  private failure: unknown = null;
  private aborted = false;
  private firstKey: unknown = undefined;
  private lastKey: unknown = undefined;
  private readonly unbounded: boolean;

  private constructor(file: string, relativeName: string, options: PartWriterOptions) {
    this.file = file;
    this.relativeName = relativeName;
    this.tmpFile = join(dirname(file), `.${basename(file)}.tmp`);
    this.unbounded = options.unbounded ?? false;
    this.level = options.gzipLevel ?? 6;
  }

  /** `relativeName` is what the manifest will call the file (relative to the data set). */
  static async create(file: string, relativeName: string, options: PartWriterOptions = {}): Promise<PartWriter> {
    const writer = new PartWriter(file, relativeName, options);
    writer.handle = await open(writer.tmpFile, 'w');
    writer.emit(gzipHeader(writer.level));
    return writer;
  }

  get recordCount(): number {
    return this.records;
  }

  /** Uncompressed bytes written so far (framing included). */
  get uncompressedBytes(): number {
    return this.uncompressed + this.batchUsed;
  }

  /** Compressed bytes that reached the file so far; lags behind while gzip buffers. */
  get compressedBytes(): number {
    return this.compressed;
  }

  /**
   * Appends one encoded message. Returns a promise only when the caller must wait
   * (gzip or the disk are behind); otherwise undefined, to keep the hot path cheap.
   */
  write(message: Uint8Array, key?: unknown): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const needed = varint32Size(message.length) + message.length;
    let wait: Promise<void> | undefined;
    if (this.batchUsed + needed > this.batch.length) {
      wait = this.flushBatch();
      if (needed > this.batch.length) this.batch = Buffer.allocUnsafe(needed);
    }
    const pos = writeVarint32(this.batch, this.batchUsed, message.length);
    this.batch.set(message, pos);
    this.batchUsed = pos + message.length;
    this.records++;
    if (key !== undefined) {
      if (this.records === 1) this.firstKey = key;
      this.lastKey = key;
    }
    return wait;
  }

  /**
   * Appends records `from…to - 1` of a page of encoded messages, message i being
   * `bytes[ends[i - 1], ends[i])` (the first from 0): what `write` does for each, without a
   * view and a call per message. Stops after the message that brings the part to `maxBytes`
   * (uncompressed, as `uncompressedBytes`) or once the caller must wait, whose promise is then
   * `backlog`. Returns the index of the next message to write. Keys: `noteKeys`.
   */
  writeRecords(bytes: Buffer, ends: readonly number[], from: number, to: number, maxBytes = Infinity): number {
    if (this.failure) throw this.failure;
    this.backlog = undefined;
    let start = from === 0 ? 0 : ends[from - 1]!;
    let i = from;
    while (i < to) {
      const end = ends[i]!;
      const length = end - start;
      const needed = varint32Size(length) + length;
      let wait: Promise<void> | undefined;
      if (this.batchUsed + needed > this.batch.length) {
        wait = this.flushBatch();
        if (needed > this.batch.length) this.batch = Buffer.allocUnsafe(needed);
      }
      const pos = writeVarint32(this.batch, this.batchUsed, length);
      bytes.copy(this.batch, pos, start, end);
      this.batchUsed = pos + length;
      this.records++;
      i++;
      start = end;
      if (wait) this.backlog = wait;
      if (wait || this.uncompressed + this.batchUsed >= maxBytes) break;
    }
    return i;
  }

  /** What the last `writeRecords` left the caller to wait for (gzip or the disk behind), if anything. */
  backlog: Promise<void> | undefined = undefined;

  /** The keys of messages written with `writeRecords`: the first part's first, the last so far. */
  noteKeys(first: unknown, last: unknown): void {
    if (this.firstKey === undefined) this.firstKey = first;
    this.lastKey = last;
  }

  /** Finishes the part and renames it into place; returns its manifest entry. */
  async close(): Promise<PartEntry> {
    await this.flushBatch();
    while (this.segments.length > 0 && !this.failure) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.failure) throw this.failure;
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.uncompressed % 2 ** 32, 4);
    this.emit(Buffer.concat([FINAL_EMPTY_BLOCK, trailer]));
    await this.writeChain;
    if (this.failure) throw this.failure;
    const handle = this.handle!;
    await handle.sync();
    await handle.close();
    this.handle = null;
    await rename(this.tmpFile, this.file);
    const entry: PartEntry = {
      file: this.relativeName,
      records: this.records,
      uncompressedBytes: this.uncompressed,
      compressedBytes: this.compressed,
      sha256: this.hash.digest('hex'),
      ...(this.firstKey !== undefined ? { keyRange: { first: this.firstKey, last: this.lastKey } } : {}),
    };
    return entry;
  }

  /** Drops the part: nothing is left under either name. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.failure ??= new Error('part aborted');
    this.wakeProducer();
    await this.writeChain.catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = null;
    await rm(this.tmpFile, { force: true });
  }

  /** A promise only when the producer must wait. */
  private flushBatch(): Promise<void> | undefined {
    if (this.batchUsed === 0) return undefined;
    const batch = this.batch;
    const used = this.batchUsed;
    const input = batch.subarray(0, used);
    this.uncompressed += used;
    this.crc = crc32(input, this.crc);
    const segment: Segment = { out: null, done: false };
    this.segments.push(segment);
    deflateRaw(
      input,
      {
        level: this.level,
        memLevel: MEM_LEVEL,
        chunkSize: SEGMENT_OUT_BYTES,
        finishFlush: constants.Z_SYNC_FLUSH,
        ...(this.dictionary ? { dictionary: this.dictionary } : {}),
      },
      (err, out) => {
        // zlib has read the batch to its end: it is spare again (not after an error: maybe not).
        if (!err && batch.length === BATCH_BYTES && spareBatches.length < MAX_SPARE_BATCHES) spareBatches.push(batch);
        if (err) this.failure ??= err;
        else segment.out = out;
        segment.done = true;
        this.drainSegments();
      },
    );
    // A copy: the batch is reused once compressed, and the next segment may start before that.
    this.dictionary = Buffer.from(input.subarray(Math.max(0, used - DICTIONARY_BYTES)));
    // The next records go into a spare batch.
    this.batch = takeBatch();
    this.batchUsed = 0;
    if (this.unbounded || !this.mustWait()) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.wake = () => (this.failure ? reject(this.failure) : resolve());
    });
  }

  private mustWait(): boolean {
    return this.segments.length >= MAX_SEGMENTS_IN_FLIGHT || this.pendingWrites >= MAX_PENDING_WRITES;
  }

  /** Hands finished segments to the file in order; an unfinished one holds back those after it. */
  private drainSegments(): void {
    while (this.segments.length > 0 && this.segments[0]!.done) {
      const { out } = this.segments.shift()!;
      if (out && !this.failure) this.emit(out);
    }
    if (this.failure || !this.mustWait()) this.wakeProducer();
  }

  private wakeProducer(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Compressed bytes, in file order: hashed, counted, and written after those before them. */
  private emit(chunk: Buffer): void {
    if (this.aborted) return;
    this.hash.update(chunk);
    this.compressed += chunk.length;
    this.pendingWrites++;
    this.writeChain = this.writeChain
      .then(() => writeAll(this.handle!, chunk))
      .then(
        () => {
          this.pendingWrites--;
          if (!this.mustWait()) this.wakeProducer();
        },
        (err) => {
          this.failure ??= err;
          this.wakeProducer();
        },
      );
  }
}

/** FileHandle.write may write less than asked (a full disk, a signal); loop until done. */
export async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
    done += bytesWritten;
  }
}

export function partFileName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.pb.gz`;
}
