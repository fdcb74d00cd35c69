import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { decodePart, type StreamEntry } from '../recordfile/index.ts';
import { decodeEnvelope } from '../seeder/broker/envelope.ts';

/**
 * Where the events of one source row, or the event of one id, are in an events stream,
 * without reading the stream: two sorted files of 8-byte entries, `(hash << 30) | position`
 * (a 34-bit hash of `table NUL primary key` or of the id, and the event's position in the
 * stream). A lookup is a binary search with positioned reads (~25 reads of 8 bytes), then
 * only the parts holding those positions are read. A hash collision only costs reading an
 * event that is then checked and left out.
 *
 * Built by the first trace (one pass over the events) and kept in `<events>/.trace-index/`
 * with the fingerprint of the manifest's part sha256s: a re-run transform makes it stale and
 * the next trace rebuilds it. Not written by the transform, whose time is what developers
 * wait for many times a day; most data sets are never traced.
 */
export const TRACE_INDEX_DIR = '.trace-index';
const FORMAT = 'seedline-trace-index/1';
const POSITION_BITS = 30;
const MAX_EVENTS = 2 ** POSITION_BITS;

interface Meta {
  readonly format: string;
  readonly fingerprint: string;
  readonly events: number;
}

export interface TraceIndex {
  /** Stream positions of the events whose source is this row (may include a collision or two). */
  bySource(table: string, pkJson: string): Promise<number[]>;
  /** Stream positions of the event with this id (may include a collision). */
  byId(id: string): Promise<number[]>;
  close(): Promise<void>;
  /** How the index came to be: 'cached', 'built' (and saved) or 'built in memory' (could not save). */
  readonly origin: 'cached' | 'built' | 'built in memory';
}

/** Opens the cached index when it matches the stream's parts, otherwise builds it (and caches it when it can). */
export async function openTraceIndex(events: string, stream: StreamEntry, onBuild?: (message: string) => void): Promise<TraceIndex> {
  const dir = join(events, TRACE_INDEX_DIR);
  const fingerprint = fingerprintOf(stream);
  const meta = await readFile(join(dir, 'meta.json'), 'utf8').then((t) => JSON.parse(t) as Meta, () => null);
  if (meta?.format === FORMAT && meta.fingerprint === fingerprint) {
    const [source, id] = await Promise.all([open(join(dir, 'source.u64')), open(join(dir, 'id.u64'))]);
    return fileIndex(source, id, meta.events, 'cached');
  }
  onBuild?.(`building the trace index of ${events} (once; later traces reuse it until the events change)`);
  const built = await buildEntries(events, stream);
  try {
    await mkdir(dir, { recursive: true });
    await writeAtomically(join(dir, 'source.u64'), built.source);
    await writeAtomically(join(dir, 'id.u64'), built.id);
    await writeAtomically(join(dir, 'meta.json'), Buffer.from(JSON.stringify({ format: FORMAT, fingerprint, events: stream.records } satisfies Meta)));
  } catch {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    return memoryIndex(built.source, built.id);
  }
  return memoryIndex(built.source, built.id, 'built');
}

/** sha256 over the parts' sha256s and record counts: changes whenever any part does. */
export function fingerprintOf(stream: StreamEntry): string {
  const h = createHash('sha256');
  for (const p of stream.parts) h.update(`${p.file} ${p.sha256} ${p.records}\n`);
  return h.digest('hex');
}

async function buildEntries(events: string, stream: StreamEntry): Promise<{ source: BigUint64Array; id: BigUint64Array }> {
  if (stream.records >= MAX_EVENTS) {
    throw new SeedlineError('USAGE', `${events} holds ${stream.records} events; the trace index handles fewer than ${MAX_EVENTS}`, { file: events, hint: 'trace a data set transformed from part of the dump (transform --module)' });
  }
  const source = new BigUint64Array(stream.records);
  const id = new BigUint64Array(stream.records);
  const source32 = new Uint32Array(source.buffer);
  const id32 = new Uint32Array(id.buffer);
  let position = 0;
  for (const part of stream.parts) {
    for await (const batch of decodePart(join(events, part.file), (b) => decodeEnvelope(b as Buffer), { expect: part })) {
      for (const e of batch) {
        put(source32, position, `${e.sourceTable}\u0000${e.sourcePrimaryKey}`);
        put(id32, position, e.id);
        position++;
      }
    }
  }
  source.sort();
  id.sort();
  return { source, id };
}

/** Entry `i` = hash34(text) << 30 | position, written as two little-endian 32-bit halves. */
function put(words: Uint32Array, position: number, text: string): void {
  const [hi, low2] = hash34(text);
  words[2 * position] = ((low2 << POSITION_BITS) | position) >>> 0;
  words[2 * position + 1] = hi;
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

function memoryIndex(source: BigUint64Array, id: BigUint64Array, origin: TraceIndex['origin'] = 'built in memory'): TraceIndex {
  return {
    origin,
    bySource: (table, pkJson) => lookup(async (i) => source[i]!, source.length, `${table}\u0000${pkJson}`),
    byId: (eventId) => lookup(async (i) => id[i]!, id.length, eventId),
    close: async () => undefined,
  };
}

function fileIndex(source: FileHandle, id: FileHandle, n: number, origin: TraceIndex['origin']): TraceIndex {
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
    close: async () => {
      await Promise.all([source.close(), id.close()]);
    },
  };
}

async function writeAtomically(file: string, data: ArrayBufferView): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  await rename(tmp, file);
}
