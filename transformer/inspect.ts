import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { ENVELOPE_TYPE } from '../common/protos.ts';
import { MANIFEST_FILE, MODULE_STREAM_PREFIX, SINGLE_EVENTS_STREAM, decodePart, eventStreams, readManifest, readMergedEvents, streamOf, type EventStream, type Manifest, type PartEntry } from '../recordfile/index.ts';

/**
 * `seedline inspect`: any record file or data set as JSON lines, like `protoc --decode`, using
 * only the .proto files in the data set's own `schemas/` (so it works on a dump or an events
 * data set from another checkout). Events are shown with their payload decoded. JSON follows
 * protobuf's mapping: int64 as decimal strings, enums by name, bytes as base64.
 */
export interface InspectOptions {
  /** A data set directory (manifest.json) or one part file inside one. */
  readonly path: string;
  /**
   * For a data set: only this stream (default: every stream, in manifest order; for an events
   * data set, its per-module streams merged into the data set's one order).
   */
  readonly stream?: string;
  /** Print at most this many records (after filtering). */
  readonly head?: number;
  /** Only records whose field at a dotted path equals the value, e.g. `type=chat.message-sent`, `payload.sender_id=7`. */
  readonly where?: readonly string[];
  /** Count instead of printing. */
  readonly count?: boolean;
  /** Receives one JSON line (with its newline); return a promise for backpressure. */
  readonly write: (line: string) => void | Promise<void>;
  readonly signal?: AbortSignal;
}

export interface InspectResult {
  /** Records printed (or counted): those that matched. */
  readonly matched: number;
  /** Records read. */
  readonly read: number;
}

interface Target {
  readonly dataset: string;
  readonly parts: { readonly stream: string; readonly file: string; readonly entry?: PartEntry }[];
  /** An events data set read whole: its streams, merged (recordfile/merged-events.ts). */
  readonly merged?: readonly EventStream[];
}

export async function inspect(options: InspectOptions): Promise<InspectResult> {
  const filters = (options.where ?? []).map(parseWhere);
  const target = await resolveTarget(resolve(options.path), options.stream);
  const manifest = await readManifest(target.dataset);
  const root = await loadDatasetProtos(target.dataset);
  const json = { longs: String, enums: String, bytes: String, json: true } as const;
  let read = 0;
  let matched = 0;
  const sources = target.merged
    ? [{ stream: target.merged[0]!.name, batches: (decode: (b: Uint8Array) => Record<string, unknown>) => mergedBatches(target.dataset, target.merged!, decode) }]
    : target.parts.map((part) => ({ stream: part.stream, batches: (decode: (b: Uint8Array) => Record<string, unknown>) => decodePart(part.file, decode, part.entry ? { expect: part.entry } : {}) }));
  for (const part of sources) {
    const type = lookup(root, streamOf(manifest, part.stream, target.dataset).messageType, target.dataset);
    const isEvent = type.fullName === `.${ENVELOPE_TYPE}`;
    // An event's payload is decoded inside the record's decode, so a damaged one is named by file, record and byte too.
    const decode = (bytes: Uint8Array) => {
      const message = type.decode(bytes);
      const object = type.toObject(message, json);
      if (isEvent) {
        const payloadType = lookup(root, String(object['payload_type']), target.dataset);
        object['payload'] = payloadType.toObject(payloadType.decode((message as unknown as { payload: Uint8Array }).payload), json);
      }
      return object;
    };
    for await (const batch of part.batches(decode)) {
      if (options.signal?.aborted) return { matched, read };
      for (const object of batch) {
        read++;
        if (!filters.every((f) => f.matches(object))) continue;
        matched++;
        if (!options.count) {
          const wait = options.write(`${JSON.stringify(object)}\n`);
          if (wait) await wait;
        }
        if (options.head !== undefined && matched >= options.head) return { matched, read };
      }
    }
  }
  return { matched, read };
}

/** A directory with a manifest, or a part file at `<dataset>/<stream>/part-NNNNN.pb.gz`. */
async function resolveTarget(path: string, stream: string | undefined): Promise<Target> {
  if (!existsSync(path)) throw new SeedlineError('USAGE', `${path} does not exist`, { file: path, hint: 'give a data set directory or a part file' });
  if (statSync(path).isDirectory()) {
    const manifest = await readManifest(path);
    if (stream === undefined && isEventsDataset(manifest)) return { dataset: path, parts: [], merged: eventStreams(manifest, path) };
    const streams = stream !== undefined ? [stream] : Object.keys(manifest.streams);
    return {
      dataset: path,
      parts: streams.flatMap((s) => streamOf(manifest, s, path).parts.map((entry) => ({ stream: s, file: join(path, entry.file), entry }))),
    };
  }
  const dataset = dirname(dirname(path));
  if (!existsSync(join(dataset, MANIFEST_FILE))) {
    throw new SeedlineError('USAGE', `${path} is not inside a data set: no ${MANIFEST_FILE} in ${dataset}`, {
      file: path,
      hint: 'inspect reads part files where extract or transform wrote them (<dataset>/<stream>/part-NNNNN.pb.gz)',
    });
  }
  const manifest = await readManifest(dataset);
  const name = basename(dirname(path));
  const entry = streamOf(manifest, name, dataset).parts.find((p) => resolve(dataset, p.file) === path);
  return { dataset, parts: [{ stream: name, file: path, ...(entry ? { entry } : {}) }] };
}

async function* mergedBatches<T>(dir: string, streams: readonly EventStream[], decode: (b: Buffer) => T): AsyncGenerator<T[]> {
  for await (const batch of readMergedEvents(dir, streams, { decode })) yield batch.events;
}

function isEventsDataset(manifest: Manifest): boolean {
  const names = Object.keys(manifest.streams);
  return names.length > 0 && names.every((n) => n === SINGLE_EVENTS_STREAM || n.startsWith(MODULE_STREAM_PREFIX));
}

async function loadDatasetProtos(dataset: string): Promise<protobuf.Root> {
  const dir = join(dataset, 'schemas');
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith('.proto')).sort().map((f) => join(dir, f)) : [];
  try {
    return await new protobuf.Root().load(files, { keepCase: true });
  } catch (err) {
    throw new SeedlineError('SCHEMA_INVALID', `cannot load the .proto files in ${dir}: ${messageOf(err)}`, { file: dir });
  }
}

function lookup(root: protobuf.Root, name: string, dataset: string): protobuf.Type {
  try {
    return root.lookupType(name);
  } catch {
    throw new SeedlineError('SCHEMA_INVALID', `message type ${name} is not defined in ${join(dataset, 'schemas')}/`, {
      file: join(dataset, 'schemas'),
      hint: 'the data set is incomplete: its schemas/ should hold every .proto its manifest names',
    });
  }
}

/** `path.to.field=value`: the field's JSON value, as text, equals value. */
function parseWhere(text: string): { matches(object: Record<string, unknown>): boolean } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new SeedlineError('USAGE', `--where expects field=value, e.g. type=chat.message-sent; got '${text}'`, { option: '--where' });
  const path = text.slice(0, eq).split('.');
  const value = text.slice(eq + 1);
  return {
    matches(object) {
      let at: unknown = object;
      for (const key of path) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
      if (at === undefined || at === null) return value === '' || value === 'null';
      return (typeof at === 'object' ? JSON.stringify(at) : String(at)) === value;
    },
  };
}
