import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { LOCK_FILE } from './dataset-lock.ts';
import {
  MANIFEST_FILE,
  newManifest,
  readManifest,
  writeManifest,
  type Manifest,
  type PartEntry,
  type Producer,
  type StreamEntry,
} from './manifest.ts';
import { PartWriter, partFileName, type PartWriterOptions } from './part-writer.ts';

export interface StreamOptions extends PartWriterOptions {
  readonly messageType: string;
  /** Path of the .proto file on disk; it is copied into the data set's `schemas/`. */
  readonly protoPath: string;
  /** A part is closed once it holds this many uncompressed bytes. */
  readonly maxPartBytes?: number;
  /**
   * Parts compressed at the same time (default 1). With 2, a full part is still being
   * gzipped on one thread of libuv's pool while the next one fills and goes to another: gzip
   * is usually slower than the producer, and one stream is one thread. Each part's bytes are
   * then buffered until gzip takes them: up to `parallelParts` × `maxPartBytes` of memory.
   * The parts are the same bytes as with 1.
   */
  readonly parallelParts?: number;
  readonly info?: Record<string, unknown>;
}

export const DEFAULT_MAX_PART_BYTES = 64 * 1024 * 1024;

/**
 * Owns a data set directory and its manifest. Streams write parts; every completed part
 * is recorded in the manifest at once (atomically), so an interrupted run knows exactly
 * which parts are complete.
 */
export class DatasetWriter {
  readonly dir: string;
  readonly manifest: Manifest;
  private manifestChain: Promise<void> = Promise.resolve();
  private readonly nextPart = new Map<string, number>();

  private constructor(dir: string, manifest: Manifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  /**
   * Starts a new data set in `dir`. Refuses to overwrite a complete one unless `overwrite`;
   * leftovers of an incomplete one are removed.
   */
  static async create(dir: string, producer: Producer, options: { overwrite?: boolean } = {}): Promise<DatasetWriter> {
    // The run's own lock (dataset-lock.ts) may already be there.
    const entries = ((await exists(dir)) ? await readdir(dir, { withFileTypes: true }) : []).filter((e) => !e.name.startsWith(LOCK_FILE));
    if (entries.some((e) => e.name === MANIFEST_FILE)) {
      const old = await readManifest(dir).catch((err: unknown) => {
        // Without a readable manifest nothing says what the directory holds: never delete on a guess.
        if (options.overwrite) return null;
        throw new SeedlineError('MANIFEST_INVALID', `${join(dir, MANIFEST_FILE)} cannot be read, so ${dir} cannot be continued or replaced safely: ${messageOf(err)}`, {
          file: join(dir, MANIFEST_FILE),
          hint: `to start over, pass --overwrite (removes the manifest, schemas/ and the part directories) or remove ${dir}; or write to another directory`,
        });
      });
      if (old?.complete && !options.overwrite) {
        throw new SeedlineError('OUTPUT_EXISTS', `${dir} already holds a complete data set`, {
          file: dir,
          hint: 'pass --overwrite to replace it, or choose another output directory',
        });
      }
      // Only remove what a data set consists of: never someone's other files.
      const streams = new Set(Object.keys(old?.streams ?? {}));
      for (const entry of entries) {
        const path = join(dir, entry.name);
        const ours =
          entry.name === MANIFEST_FILE ||
          entry.name === `${MANIFEST_FILE}.tmp` ||
          entry.name === 'schemas' ||
          (entry.isDirectory() && (streams.has(entry.name) || (await holdsOnlyParts(path))));
        if (ours) await rm(path, { recursive: true, force: true });
      }
    } else if (entries.length > 0) {
      throw new SeedlineError('OUTPUT_EXISTS', `${dir} is not empty and is not a seedline data set (no ${MANIFEST_FILE})`, {
        file: dir,
        hint: 'choose a new or empty output directory',
      });
    }
    await mkdir(dir, { recursive: true });
    const writer = new DatasetWriter(dir, newManifest(producer));
    await writeManifest(dir, writer.manifest);
    return writer;
  }

  /**
   * Reopens a data set to replace some of its streams (an incremental transform): the manifest
   * is marked incomplete with `replace` gone from it and `producer` in place, then their
   * directories are removed; the other streams stay as they are, byte for byte.
   */
  static async replaceStreams(dir: string, producer: Producer, replace: readonly string[]): Promise<DatasetWriter> {
    const manifest = await readManifest(dir);
    const writer = new DatasetWriter(dir, manifest);
    manifest.complete = false;
    manifest.producer = producer;
    for (const name of replace) delete manifest.streams[name];
    for (const [name, stream] of Object.entries(manifest.streams)) writer.nextPart.set(name, stream.parts.length === 0 ? 0 : maxPartIndex(stream.parts) + 1);
    await writer.saveManifest();
    for (const name of replace) await rm(join(dir, name), { recursive: true, force: true });
    return writer;
  }

  /** Reopens an interrupted data set: complete parts stay, temporary files are removed. */
  static async resume(dir: string): Promise<DatasetWriter> {
    const manifest = await readManifest(dir);
    const writer = new DatasetWriter(dir, manifest);
    manifest.complete = false;
    for (const [name, stream] of Object.entries(manifest.streams)) {
      writer.nextPart.set(name, stream.parts.length === 0 ? 0 : maxPartIndex(stream.parts) + 1);
      const streamDir = join(dir, name);
      if (!(await exists(streamDir))) continue;
      const known = new Set(stream.parts.map((p) => basename(p.file)));
      for (const file of await readdir(streamDir)) {
        if (!known.has(file)) await rm(join(streamDir, file), { force: true });
      }
    }
    return writer;
  }

  /** Declares a stream (idempotent on resume). */
  async declareStream(name: string, options: StreamOptions): Promise<StreamEntry> {
    await mkdir(join(this.dir, name), { recursive: true });
    await mkdir(join(this.dir, 'schemas'), { recursive: true });
    const protoFile = `schemas/${basename(options.protoPath)}`;
    await copyFile(options.protoPath, join(this.dir, protoFile));
    let entry = this.manifest.streams[name];
    if (!entry) {
      entry = { messageType: options.messageType, protoFile, complete: false, records: 0, parts: [] };
      if (options.info) entry.info = options.info;
      this.manifest.streams[name] = entry;
      this.nextPart.set(name, 0);
      await this.saveManifest();
    }
    return entry;
  }

  /** Reserves the next part number of a stream (parallel workers each take their own). */
  takePartIndex(stream: string): number {
    const index = this.nextPart.get(stream) ?? 0;
    this.nextPart.set(stream, index + 1);
    return index;
  }

  async openPart(stream: string, index: number, options: PartWriterOptions = {}): Promise<PartWriter> {
    const relative = `${stream}/${partFileName(index)}`;
    return PartWriter.create(join(this.dir, relative), relative, options);
  }

  /** Records a completed part in the manifest. */
  async commitPart(stream: string, part: PartEntry): Promise<void> {
    const entry = this.manifest.streams[stream]!;
    entry.parts.push(part);
    entry.parts.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    entry.records += part.records;
    await this.saveManifest();
  }

  async completeStream(stream: string, info?: Record<string, unknown>): Promise<void> {
    const entry = this.manifest.streams[stream]!;
    entry.complete = true;
    if (info) entry.info = { ...entry.info, ...info };
    await this.saveManifest();
  }

  /** Opens a sequential writer that rotates parts by size. */
  streamWriter(stream: string, options: StreamOptions): StreamWriter {
    return new StreamWriter(this, stream, options);
  }

  async finish(extra: Partial<Pick<Producer, 'snapshot'>> = {}): Promise<void> {
    this.manifest.producer.finishedAt = new Date().toISOString();
    if (extra.snapshot) this.manifest.producer.snapshot = extra.snapshot;
    this.manifest.complete = Object.values(this.manifest.streams).every((s) => s.complete);
    await this.saveManifest();
  }

  /** Manifest writes are serialized: parallel workers commit parts concurrently. */
  saveManifest(): Promise<void> {
    this.manifestChain = this.manifestChain.then(() => writeManifest(this.dir, this.manifest));
    return this.manifestChain;
  }
}

/** Writes one stream part after part, starting a new part when the current one is full. */
export class StreamWriter {
  private readonly dataset: DatasetWriter;
  private readonly stream: string;
  private readonly options: StreamOptions;
  private readonly maxPartBytes: number;
  private current: PartWriter | null = null;
  private opening: Promise<PartWriter> | null = null;
  private declared: Promise<StreamEntry> | null = null;
  private written = 0;
  private readonly parallelParts: number;
  /** Full parts still being compressed, oldest first (parallelParts > 1). */
  private closing: Promise<void>[] = [];
  private failure: unknown = null;

  constructor(dataset: DatasetWriter, stream: string, options: StreamOptions) {
    this.dataset = dataset;
    this.stream = stream;
    this.options = { ...options, unbounded: options.unbounded ?? (options.parallelParts ?? 1) > 1 };
    this.maxPartBytes = options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;
    this.parallelParts = Math.max(1, Math.floor(options.parallelParts ?? 1));
  }

  get recordCount(): number {
    return this.written;
  }

  /**
   * Appends one encoded record; await the result only when it is a promise (a part is being
   * opened or closed, or gzip is behind). Most writes return undefined: no promise per record.
   */
  write(message: Uint8Array, key?: unknown): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    const part = this.current;
    if (!part) return this.open().then((opened) => this.writeTo(opened, message, key));
    return this.writeTo(part, message, key);
  }

  private writeTo(part: PartWriter, message: Uint8Array, key: unknown): Promise<void> | undefined {
    const wait = part.write(message, key);
    this.written++;
    const full = part.uncompressedBytes >= this.maxPartBytes;
    if (!wait) return full ? this.rotate() : undefined;
    return full ? wait.then(() => this.rotate()) : wait;
  }

  /** Closes the last part and marks the stream complete. */
  async close(info?: Record<string, unknown>): Promise<void> {
    if (!this.declared) await this.declare();
    await this.rotate();
    while (this.closing.length > 0) await this.closing.shift();
    if (this.failure) throw this.failure;
    await this.dataset.completeStream(this.stream, info);
  }

  async abort(): Promise<void> {
    const closing = this.closing;
    this.closing = [];
    await this.current?.abort();
    this.current = null;
    // A part that was being compressed must not be committed afterwards either.
    this.failure ??= new Error('stream aborted');
    await Promise.allSettled(closing);
  }

  private declare(): Promise<StreamEntry> {
    this.declared ??= this.dataset.declareStream(this.stream, this.options);
    return this.declared;
  }

  private async open(): Promise<PartWriter> {
    this.opening ??= (async () => {
      await this.declare();
      const part = await this.dataset.openPart(this.stream, this.dataset.takePartIndex(this.stream), this.options);
      this.current = part;
      return part;
    })();
    try {
      return await this.opening;
    } finally {
      this.opening = null;
    }
  }

  private async rotate(): Promise<void> {
    const part = this.current;
    if (!part) return;
    this.current = null;
    if (this.parallelParts === 1) {
      await this.dataset.commitPart(this.stream, await part.close());
      return;
    }
    // Parts may finish out of order; the manifest lists them by file name all the same.
    const closing = part.close().then(
      async (entry) => {
        if (this.failure) await rm(part.file, { force: true });
        else await this.dataset.commitPart(this.stream, entry);
      },
      async (err: unknown) => {
        this.failure ??= err;
        await part.abort();
      },
    );
    this.closing.push(closing);
    while (this.closing.length >= this.parallelParts) await this.closing.shift();
    if (this.failure) throw this.failure;
  }
}

function maxPartIndex(parts: readonly PartEntry[]): number {
  let max = -1;
  for (const p of parts) {
    const m = /part-(\d+)\.pb\.gz$/.exec(p.file);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** A stream directory left by an interrupted run: part files and their temporary files only. */
async function holdsOnlyParts(dir: string): Promise<boolean> {
  const files = await readdir(dir);
  return files.every((f) => /^\.?part-\d+\.pb\.gz(\.tmp)?$/.test(f));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
