import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { combinedEntry, eventCount, eventsByType, readMergedEvents, type EventStream, type StreamEntry } from '../recordfile/index.ts';
import { decodeEnvelope } from '../seeder/broker/envelope.ts';

/**
 * Where the events of one source row, or the event of one id, are in an events data set,
 * without reading it: two sorted files of 8-byte entries, `(hash << 30) | location` (a 34-bit
 * hash of `table NUL primary key` or of the id, and where the event is: its stream's offset
 * in the data set's streams laid end to end in module order — `combinedEntry` — plus its
 * index in its stream), and `position.u32`, location → the event's position in the data set's
 * one (merged) order, the position seed counts in. A lookup is a binary search with
 * positioned reads (~25 reads of 8 bytes), then only the parts holding those locations are
 * read. A hash collision only costs reading an event that is then checked and left out.
 *
 * Built by the first trace (one merged pass over the events) and kept in
 * `<events>/.trace-index/` with the fingerprint of every stream's part sha256s: a re-run
 * transform (of any module) makes it stale and the next trace rebuilds it. Not written by the transform, whose time is what developers
 * wait for many times a day; most data sets are never traced.
 */
export const TRACE_INDEX_DIR = '.trace-index';
const FORMAT = 'seedline-trace-index/2';
const POSITION_BITS = 30;
const MAX_EVENTS = 2 ** POSITION_BITS;

interface Meta {
  readonly format: string;
  readonly fingerprint: string;
  readonly events: number;
}

export interface TraceIndex {
  /** Locations (see above) of the events whose source is this row (may include a collision or two). */
  bySource(table: string, pkJson: string): Promise<number[]>;
  /** Locations of the event with this id (may include a collision). */
  byId(id: string): Promise<number[]>;
  /** The position in the merged order of the event at this location. */
  positionOf(location: number): Promise<number>;
  close(): Promise<void>;
  /** How the index came to be: 'cached', 'built' (and saved) or 'built in memory' (could not save). */
  readonly origin: 'cached' | 'built' | 'built in memory';
}

/** Opens the cached index when it matches the streams' parts, otherwise builds it (and caches it when it can). */
export async function openTraceIndex(events: string, streams: readonly EventStream[], onBuild?: (message: string) => void): Promise<TraceIndex> {
  const dir = join(events, TRACE_INDEX_DIR);
  const fingerprint = fingerprintOf(combinedEntry(streams));
  const meta = await readFile(join(dir, 'meta.json'), 'utf8').then((t) => JSON.parse(t) as Meta, () => null);
  if (meta?.format === FORMAT && meta.fingerprint === fingerprint) {
    const [source, id, position] = await Promise.all([open(join(dir, 'source.u64')), open(join(dir, 'id.u64')), open(join(dir, 'position.u32'))]);
    return fileIndex(source, id, position, meta.events, 'cached');
  }
  onBuild?.(`building the trace index of ${events} (once; later traces reuse it until the events change)`);
  const built = await buildEntries(events, streams);
  try {
    await mkdir(dir, { recursive: true });
    await writeAtomically(join(dir, 'source.u64'), built.source);
    await writeAtomically(join(dir, 'id.u64'), built.id);
    await writeAtomically(join(dir, 'position.u32'), built.position);
    await writeAtomically(join(dir, 'meta.json'), Buffer.from(JSON.stringify({ format: FORMAT, fingerprint, events: eventCount(streams) } satisfies Meta)));
  } catch {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    return memoryIndex(built);
  }
  return memoryIndex(built, 'built');
}

/** sha256 over the parts' sha256s and record counts: changes whenever any part does. */
export function fingerprintOf(stream: StreamEntry): string {
  const h = createHash('sha256');
  for (const p of stream.parts) h.update(`${p.file} ${p.sha256} ${p.records}\n`);
  return h.digest('hex');
}

interface Entries {
  readonly source: BigUint64Array;
  readonly id: BigUint64Array;
  /** Location → position in the merged order. */
  readonly position: Uint32Array;
}

/**
 * One pass in the merged order (recordfile/merged-events.ts), which gives each event's
 * position; its stream is the one whose manifest counts its type (a module's events are of
 * its own types), and its index in that stream is how many of that stream's events came
 * before it, since the merge hands out each stream's events in their stream order.
 */
async function buildEntries(events: string, streams: readonly EventStream[]): Promise<Entries> {
  const total = eventCount(streams);
  if (total >= MAX_EVENTS) {
    throw new SeedlineError('USAGE', `${events} holds ${total} events; the trace index handles fewer than ${MAX_EVENTS}`, { file: events, hint: 'trace a data set transformed from part of the dump (transform --module)' });
  }
  const streamOfType = streamsByType(events, streams);
  const next: number[] = [];
  for (let s = 0, offset = 0; s < streams.length; offset += streams[s]!.entry.records, s++) next.push(offset);
  const source = new BigUint64Array(total);
  const id = new BigUint64Array(total);
  const position = new Uint32Array(total);
  const source32 = new Uint32Array(source.buffer);
  const id32 = new Uint32Array(id.buffer);
  let entry = 0;
  for await (const batch of readMergedEvents(events, streams, { decode: decodeEnvelope })) {
    let at = batch.first;
    for (const e of batch.events) {
      const s = streamOfType(e.type);
      const location = next[s]!++;
      position[location] = at++;
      put(source32, entry, location, `${e.sourceTable}\u0000${e.sourcePrimaryKey}`);
      put(id32, entry, location, e.id);
      entry++;
    }
  }
  for (let s = 0, end = 0; s < streams.length; s++) {
    end += streams[s]!.entry.records;
    if (next[s] !== end) throw notIndexable(events, `${streams[s]!.name} holds ${streams[s]!.entry.records} events, but ${streams[s]!.entry.records - (end - next[s]!)} of its types were read`);
  }
  source.sort();
  id.sort();
  return { source, id, position };
}

/** Event type → index of the stream holding its events, from each stream's info.eventsByType. */
function streamsByType(events: string, streams: readonly EventStream[]): (type: string) => number {
  if (streams.length === 1) return () => 0;
  const of = new Map<string, number>();
  streams.forEach((s, i) => {
    for (const type of Object.keys(eventsByType([s]))) {
      if (of.has(type)) throw notIndexable(events, `event type ${type} is counted in both ${streams[of.get(type)!]!.name} and ${s.name}`);
      of.set(type, i);
    }
  });
  return (type) => {
    const s = of.get(type);
    if (s === undefined) throw notIndexable(events, `no stream's manifest info counts events of type ${type}`);
    return s;
  };
}

function notIndexable(events: string, why: string): SeedlineError {
  return new SeedlineError('MANIFEST_INVALID', `${events}: cannot build the trace index: ${why}`, { file: events, hint: 'run seedline transform again' });
}

/** Entry `i` = hash34(text) << 30 | location, written as two little-endian 32-bit halves. */
function put(words: Uint32Array, i: number, location: number, text: string): void {
  const [hi, low2] = hash34(text);
  words[2 * i] = ((low2 << POSITION_BITS) | location) >>> 0;
  words[2 * i + 1] = hi;
}

/** A 34-bit hash: FNV-1a (32 bits) and 2 bits of a second, differently seeded FNV-1a. */
function hash34(text: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  b ^= b >>> 15;
  b = Math.imul(b, 0x2c1b3c6d);
  b ^= b >>> 12;
  return [a >>> 0, (b >>> 0) & 3];
}

/** The range of entries [low, high) whose hash part is that of `text`. */
function rangeOf(text: string): [bigint, bigint] {
  const [hi, low2] = hash34(text);
  const low = (BigInt(hi) << 32n) | (BigInt(low2) << BigInt(POSITION_BITS));
  return [low, low + BigInt(MAX_EVENTS)];
}

const MASK = BigInt(MAX_EVENTS - 1);

async function lookup(read: (i: number) => Promise<bigint>, n: number, text: string): Promise<number[]> {
  const [low, high] = rangeOf(text);
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((await read(mid)) < low) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < n; i++) {
    const v = await read(i);
    if (v >= high) break;
    out.push(Number(v & MASK));
  }
  return out.sort((x, y) => x - y);
}

function memoryIndex({ source, id, position }: Entries, origin: TraceIndex['origin'] = 'built in memory'): TraceIndex {
  return {
    origin,
    bySource: (table, pkJson) => lookup(async (i) => source[i]!, source.length, `${table}\u0000${pkJson}`),
    byId: (eventId) => lookup(async (i) => id[i]!, id.length, eventId),
    positionOf: async (location) => position[location]!,
    close: async () => undefined,
  };
}

function fileIndex(source: FileHandle, id: FileHandle, position: FileHandle, n: number, origin: TraceIndex['origin']): TraceIndex {
  const reader = (file: FileHandle) => {
    const buf = Buffer.alloc(8);
    return async (i: number) => {
    await file.read(buf, 0, 8, i * 8);
    return buf.readBigUInt64LE(0);
    };
  };
  return {
    origin,
    bySource: (table, pkJson) => lookup(reader(source), n, `${table}\u0000${pkJson}`),
    byId: (eventId) => lookup(reader(id), n, eventId),
    positionOf: async (location) => {
      const buf = Buffer.alloc(4);
      await position.read(buf, 0, 4, location * 4);
      return buf.readUInt32LE(0);
    },
    close: async () => {
      await Promise.all([source.close(), id.close(), position.close()]);
    },
  };
}

async function writeAtomically(file: string, data: ArrayBufferView): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  await rename(tmp, file);
}
