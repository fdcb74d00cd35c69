import { createHash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
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
 * Records are gathered into batches of about this size before they go to gzip, and gzip's
 * output comes in chunks of this size. Each batch and chunk is a round trip between the main
 * thread and libuv's pool: at 1 MB rather than 256 KB, a 1.2 M-row extract switches context
 * ~10 k rather than ~23 k times and spends ~10 % less CPU. The bytes are the same.
 */
const BATCH_BYTES = 1024 * 1024;

/**
 * Batch buffers gzip has finished with, for the next batches (of any part on this thread).
 * A fresh 256 KB buffer per flush was ~670 MB of allocation per 1.2 M-row extract, much of
 * the garbage collector's work. A batch comes back only from gzip's write callback: zlib reads
 * its input on libuv's pool until then. Parts written in parallel (`unbounded`) may hold many
 * batches at once; past this many spare ones, returned batches are left to the collector.
 */
const spareBatches: Buffer[] = [];
const MAX_SPARE_BATCHES = 3;

/** Batches gzip may hold before the producer waits: one being compressed, the next queued. */
const MAX_BATCHES_IN_GZIP = 2;

/** Compressed chunks (1 MB each) that may wait for the file before gzip is paused. */
const MAX_PENDING_WRITES = 4;

function takeBatch(): Buffer {
  return spareBatches.pop() ?? Buffer.allocUnsafe(BATCH_BYTES);
}

/**
 * Writes one part: framed records → gzip → a temporary file beside the final name.
 * `close()` flushes, fsyncs and renames it into place, so a reader never sees half a part.
 * `abort()` removes the temporary file.
 */
export class PartWriter {
  readonly file: string;
  readonly tmpFile: string;
  private readonly relativeName: string;
  private readonly gzip: Gzip;
  private readonly hash = createHash('sha256');
  private handle: FileHandle | null = null;
  private batch: Buffer = takeBatch();
  private batchUsed = 0;
  private records = 0;
  private uncompressed = 0;
  private compressed = 0;
  private writeChain: Promise<void> = Promise.resolve();
  /** Batches handed to gzip whose write callback has not come yet; woken when one comes. */
  private batchesInGzip = 0;
  private wake: (() => void) | null = null;
  /** Compressed chunks waiting for the file. */
  private pendingWrites = 0;
  private failure: unknown = null;
  private firstKey: unknown = undefined;
  private lastKey: unknown = undefined;
  private readonly unbounded: boolean;

  private constructor(file: string, relativeName: string, options: PartWriterOptions) {
    this.file = file;
    this.relativeName = relativeName;
    this.tmpFile = join(dirname(file), `.${basename(file)}.tmp`);
    this.unbounded = options.unbounded ?? false;
    // 1 MB of output per chunk (zlib's default is 16 KB): 64x fewer file writes and hash updates.
    this.gzip = createGzip({ level: options.gzipLevel ?? 6, chunkSize: BATCH_BYTES });
    this.gzip.on('data', (chunk: Buffer) => this.onCompressed(chunk));
    this.gzip.on('error', (err) => (this.failure ??= err));
  }

  /** `relativeName` is what the manifest will call the file (relative to the data set). */
  static async create(file: string, relativeName: string, options: PartWriterOptions = {}): Promise<PartWriter> {
    const writer = new PartWriter(file, relativeName, options);
    writer.handle = await open(writer.tmpFile, 'w');
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

  /** Finishes the part and renames it into place; returns its manifest entry. */
  async close(): Promise<PartEntry> {
    await this.flushBatch();
    await new Promise<void>((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
      this.gzip.end();
      this.gzip.resume();
    });
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
    this.gzip.destroy();
    await this.writeChain.catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = null;
    await rm(this.tmpFile, { force: true });
  }

  private flushBatch(): Promise<void> {
    if (this.batchUsed === 0) return Promise.resolve();
    const batch = this.batch;
    const chunk = batch.subarray(0, this.batchUsed);
    this.uncompressed += this.batchUsed;
    // The batch is handed to gzip; the next records go into a spare one. This one is spare again
    // once gzip has consumed it (not after an error: zlib may still be reading it).
    this.batch = takeBatch();
    this.batchUsed = 0;
    this.batchesInGzip++;
    this.gzip.write(chunk, (err) => {
      this.batchesInGzip--;
      if (!err && batch.length === BATCH_BYTES && spareBatches.length < MAX_SPARE_BATCHES) spareBatches.push(batch);
      const wake = this.wake;
      this.wake = null;
      wake?.();
    });
    // Wait only while gzip holds two batches: it compresses one while the next one fills. (Its
    // 'drain' came once it held none, so zlib sat idle while the main thread filled a batch.)
    if (this.unbounded || this.batchesInGzip < MAX_BATCHES_IN_GZIP) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.wake = null;
        reject(err);
      };
      this.wake = () => {
        this.gzip.off('error', onError);
        resolve();
      };
      this.gzip.once('error', onError);
    });
  }

  private onCompressed(chunk: Buffer): void {
    this.hash.update(chunk);
    this.compressed += chunk.length;
    // File writes are chained so they land in order. gzip is paused only once a few are pending:
    // pausing on every one made zlib wait for the disk and for two more turns of the main thread
    // per chunk, and that thread is busy decoding rows.
    if (++this.pendingWrites >= MAX_PENDING_WRITES) this.gzip.pause();
    this.writeChain = this.writeChain
      .then(() => writeAll(this.handle!, chunk))
      .then(
        () => {
          if (this.pendingWrites-- === MAX_PENDING_WRITES) this.gzip.resume();
        },
        (err) => {
          this.failure ??= err;
        },
      );
  }
}

/** FileHandle.write may write less than asked (a full disk, a signal); loop until done. */
async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
    done += bytesWritten;
  }
}

export function partFileName(index: number): string {
  return `part-${String(index).padStart(5, '0')}.pb.gz`;
}
