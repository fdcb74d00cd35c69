import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { BackgroundSha256 } from './background-hash.ts';
import { DEFAULT_MAX_RECORD_BYTES, RecordSplitter, describeProblem, varint32Size } from './framing.ts';
import { readManifest, streamOf, type PartEntry } from './manifest.ts';

export interface ReadOptions {
  readonly maxRecordBytes?: number;
  /**
   * When given, the part's sha256 and record count are checked at its end, and its
   * uncompressed and compressed sizes when the entry has them (a manifest entry always does).
   */
  readonly expect?: Pick<PartEntry, 'sha256' | 'records'> & Partial<Pick<PartEntry, 'uncompressedBytes' | 'compressedBytes'>>;
  /**
   * The part's compressed bytes, already read and checked against the manifest's size and
   * sha256 by the caller (seeder/input/part-check.ts): read from these instead of the file, and do
   * not hash them again. `expect.records` is still checked.
   */
  readonly checkedBytes?: Buffer;
}

/** Records per batch that decodePart yields. */
const DECODED_BATCH = 256;

/** Compressed bytes read per chunk: large enough to amortise per-chunk costs. */
const READ_CHUNK = 1024 * 1024;

/**
 * Reads one part as batches of raw record bytes (each batch is what one gunzipped chunk
 * held). Memory stays constant: the next chunk is read only when the consumer asks.
 * Every corruption is an error naming the file and the record / byte offset.
 */
export async function* readPartBatches(file: string, options: ReadOptions = {}): AsyncGenerator<Buffer[]> {
  const splitter = new RecordSplitter(options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES);
  const hash = options.expect && !options.checkedBytes ? new BackgroundSha256() : null;
  const input: Readable = options.checkedBytes ? Readable.from(chunksOf(options.checkedBytes), { objectMode: false }) : createReadStream(file, { highWaterMark: READ_CHUNK });
  let compressedOffset = 0;
  let fullyRead = false;
  input.on('data', (chunk: Buffer) => {
    compressedOffset += chunk.length;
    hash?.update(chunk as Buffer);
  });
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  input.on('error', (err: Error) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const batch: Buffer[] = [];
      if (!splitter.push(chunk, batch)) throw framingError(file, splitter);
      if (batch.length > 0) yield batch;
    }
    fullyRead = true;
  } catch (err) {
    if (err instanceof SeedlineError) throw err;
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') {
      throw new SeedlineError('CORRUPT_RECORD_FILE', `${file} does not exist`, { file }, { cause: err });
    }
    throw new SeedlineError(
      'CORRUPT_RECORD_FILE',
      `${file}: gzip data is damaged near compressed byte ${compressedOffset} (after record ${splitter.recordCount}, uncompressed byte ${splitter.byteCount}): ${messageOf(err)}`,
      { file, offset: compressedOffset, record: splitter.recordCount },
      { cause: err },
    );
  } finally {
    input.destroy();
    gunzip.destroy();
    if (!fullyRead) hash?.dispose();
  }
  if (!splitter.finish()) {
    hash?.dispose();
    throw framingError(file, splitter);
  }
  if (options.expect) {
    const sha256 = hash ? await hash.digest() : options.expect.sha256;
    if (sha256 !== options.expect.sha256) {
      throw new SeedlineError('CHECKSUM_MISMATCH', `${file}: sha256 is ${sha256}, manifest says ${options.expect.sha256}`, {
        file,
        hint: 'the file changed after it was written; extract or transform it again',
      });
    }
    if (splitter.recordCount !== options.expect.records) {
      throw new SeedlineError(
        'CHECKSUM_MISMATCH',
        `${file}: holds ${splitter.recordCount} records, manifest says ${options.expect.records}`,
        { file },
      );
    }
    checkSize(file, 'uncompressedBytes', splitter.byteCount, options.expect.uncompressedBytes);
    checkSize(file, 'compressedBytes', compressedOffset, options.expect.compressedBytes);
  }
}

/** In-memory bytes in the chunks a file would be read in (so byte offsets in errors stay exact). */
function* chunksOf(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += READ_CHUNK) yield bytes.subarray(at, at + READ_CHUNK);
}

/** A part whose size differs from its manifest entry: the manifest is wrong even if the bytes hash right. */
function checkSize(file: string, field: 'uncompressedBytes' | 'compressedBytes', actual: number, expected: number | undefined): void {
  if (expected === undefined || actual === expected) return;
  throw new SeedlineError('CHECKSUM_MISMATCH', `${file}: holds ${actual} ${field === 'compressedBytes' ? 'compressed' : 'uncompressed'} bytes, manifest field ${field} says ${expected}`, {
    file,
    hint: 'the manifest does not describe this part; extract or transform it again',
  });
}

/** Reads one part record by record. */
export async function* readPart(file: string, options: ReadOptions = {}): AsyncGenerator<Buffer> {
  for await (const batch of readPartBatches(file, options)) yield* batch;
}

/**
 * Decodes every record of a part with `decode`; a record that does not decode is an error
 * naming the file, record index and uncompressed byte offset.
 */
export async function* decodePart<T>(
  file: string,
  decode: (bytes: Uint8Array) => T,
  options: ReadOptions = {},
): AsyncGenerator<T[]> {
  let index = 0;
  let batchOffset = 0;
  for await (const batch of readPartBatches(file, options)) {
    // Decoded records are handed on in slices: a short-lived batch keeps the garbage
    // collector's young generation cheap (a whole gunzip chunk is ~1,000+ records).
    for (let start = 0; start < batch.length; start += DECODED_BATCH) {
      const stop = Math.min(batch.length, start + DECODED_BATCH);
      const out: T[] = new Array(stop - start);
      for (let i = start; i < stop; i++, index++) {
        try {
          out[i - start] = decode(batch[i]!);
        } catch (err) {
          const offset = batchOffset + framedSize(batch, i);
          throw new SeedlineError(
            'CORRUPT_RECORD_FILE',
            `${file}: record ${index} at byte ${offset} does not decode: ${messageOf(err)}`,
            { file, record: index, offset, hint: 'the file is damaged (seedline verify checks every part against its sha256) or the record does not match the message type in the manifest' },
          );
        }
      }
      yield out;
    }
    batchOffset += framedSize(batch, batch.length);
  }
}

/** Uncompressed bytes (prefix + body) of the first `count` records of a batch. */
function framedSize(batch: readonly Buffer[], count: number): number {
  let size = 0;
  for (let i = 0; i < count; i++) size += varint32Size(batch[i]!.length) + batch[i]!.length;
  return size;
}

/** The parts of a stream in a data set, with their manifest entries, in order. */
export async function streamParts(dir: string, stream: string): Promise<{ file: string; entry: PartEntry }[]> {
  const manifest = await readManifest(dir);
  return streamOf(manifest, stream, dir).parts.map((entry) => ({ file: join(dir, entry.file), entry }));
}

/** Reads a whole stream of a data set part after part, verifying each against the manifest. */
export async function* decodeStream<T>(
  dir: string,
  stream: string,
  decode: (bytes: Uint8Array) => T,
  options: Omit<ReadOptions, 'expect'> = {},
): AsyncGenerator<T[]> {
  for (const { file, entry } of await streamParts(dir, stream)) {
    yield* decodePart(file, decode, { ...options, expect: entry });
  }
}

function framingError(file: string, splitter: RecordSplitter): SeedlineError {
  const problem = splitter.problem!;
  return new SeedlineError('CORRUPT_RECORD_FILE', `${file}: ${describeProblem(problem)}`, {
    file,
    offset: problem.offset,
    record: problem.record,
  });
}
