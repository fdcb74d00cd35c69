import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeedlineError, messageOf } from '../common/errors.ts';

/**
 * `manifest.json`: what a data set holds and how to check it. A data set is a directory
 * with one sub-directory per stream (a table for a dump, a module for events: `events.chat`), each with
 * numbered parts. The .proto files that describe the records are copied beside it, so the
 * data set can be read by any protobuf library without this repository.
 */
export const MANIFEST_FORMAT = 'seedline-records';
export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export interface PartEntry {
  /** Path relative to the data set directory, e.g. `Members/part-00000.pb.gz`. */
  readonly file: string;
  readonly records: number;
  readonly uncompressedBytes: number;
  readonly compressedBytes: number;
  readonly sha256: string;
  /** First and last key in the part, when the stream is keyed (JSON values). */
  readonly keyRange?: { readonly first: unknown; readonly last: unknown };
  /** The snapshot the part's rows were read in (extract): a resumed run's parts have another. */
  readonly snapshot?: PartSnapshot;
}

export interface PartSnapshot {
  /** When the snapshot was taken (ISO time). */
  readonly at: string;
  /** The database's id for it, where it has one (PostgreSQL's exported snapshot). */
  readonly id?: string;
}

export interface StreamEntry {
  /** Fully qualified protobuf message type of every record, e.g. `seedline.legacy.Members`. */
  readonly messageType: string;
  /** The .proto file defining it, relative to the data set directory. */
  readonly protoFile: string;
  /** True once every part of the stream is written. */
  complete: boolean;
  records: number;
  parts: PartEntry[];
  /** Anything the producing stage wants to record per stream (consistency, key columns, ...). */
  info?: Record<string, unknown>;
}

export interface Producer {
  readonly tool: 'seedline';
  readonly version: string;
  readonly stage: 'extract' | 'transform' | 'fixture' | 'test';
  /** Source description with credentials removed. */
  readonly source?: Record<string, unknown>;
  readonly startedAt: string;
  finishedAt?: string;
  /** Snapshot / consistency information for the whole run. */
  snapshot?: Record<string, unknown>;
  /** The options that shaped the records (extract: source zone, type mapping version); a resume must match them. */
  options?: Record<string, unknown>;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly formatVersion: typeof MANIFEST_VERSION;
  producer: Producer;
  /** True once every stream is complete and the run finished. */
  complete: boolean;
  streams: Record<string, StreamEntry>;
}

export function newManifest(producer: Producer): Manifest {
  return { format: MANIFEST_FORMAT, formatVersion: MANIFEST_VERSION, producer, complete: false, streams: {} };
}

export async function readManifest(dir: string): Promise<Manifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SeedlineError(
      'MANIFEST_INVALID',
      missing ? `${file} does not exist: ${dir} is not a seedline data set` : `cannot read ${file}: ${messageOf(err)}`,
      { file, hint: missing ? 'point at the directory that extract or transform wrote' : undefined },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SeedlineError('MANIFEST_INVALID', `${file} is not valid JSON: ${messageOf(err)}`, { file });
  }
  const m = parsed as Partial<Manifest>;
  if (m?.format !== MANIFEST_FORMAT) {
    throw new SeedlineError('MANIFEST_INVALID', `${file} is not a seedline manifest (format is ${JSON.stringify(m?.format)})`, { file });
  }
  if (m.formatVersion !== MANIFEST_VERSION) {
    throw new SeedlineError(
      'MANIFEST_INVALID',
      `${file} has format version ${m.formatVersion}; this seedline reads version ${MANIFEST_VERSION}`,
      { file },
    );
  }
  return m as Manifest;
}

/** Writes the manifest atomically: a reader sees the old one or the new one, never half. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const file = join(dir, MANIFEST_FILE);
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
  await rename(tmp, file);
}

export function streamOf(manifest: Manifest, name: string, dir: string): StreamEntry {
  const stream = manifest.streams[name];
  if (!stream) {
    const known = Object.keys(manifest.streams).join(', ') || 'none';
    throw new SeedlineError('MANIFEST_INVALID', `${dir} has no stream '${name}' (it has: ${known})`, {
      file: join(dir, MANIFEST_FILE),
    });
  }
  return stream;
}

/**
 * A stream whose `records` is not the sum of its parts' records, or null. Readers that go by
 * the stream total (progress, counts, a consumer sizing its work) would be misled by it.
 */
export function streamTotalsProblem(dir: string, name: string, stream: StreamEntry): string | null {
  const declared = stream.parts.reduce((n, p) => n + p.records, 0);
  if (declared === stream.records) return null;
  return `${join(dir, MANIFEST_FILE)}: stream ${name} field records says ${stream.records}, its parts hold ${declared}`;
}
