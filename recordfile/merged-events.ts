import { join } from 'node:path';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { ProtoReader } from '../common/proto-reader.ts';
import { checkEventsComplete, eventStreams, type EventStream } from './events-dataset.ts';
import { readManifest, type PartEntry } from './manifest.ts';
import { readPartBatches } from './reader.ts';

/**
 * Reads an events data set in its one order: a k-way merge of its per-module streams
 * (events-dataset.ts) by (occurred_at, module index), records of one stream in their stream
 * order. That is exactly the order transform sorts by (transformer/sort-record.ts): two events
 * of different modules differ in occurred_at or module index, and the rest of the key (table,
 * primary key, position in the row's output, bytes) only orders events of one module — which
 * its stream already holds in that order. Every reader of an events data set goes through
 * here (seed, dry run, tap, inspect), so they all see the same order and the same indexes.
 *
 * Only occurred_at (envelope field 3) is read from a record to merge it; a record is decoded
 * only when it is handed out, so merging past records before `start` costs a gunzip and a
 * varint per record. Parts that lie wholly before `start` are not read at all (skipPlan).
 */
export interface EventBatch<E> {
  /** Index of `events[0]` in the merged order; the others follow without gaps. */
  readonly first: number;
  readonly events: E[];
}

/** A part about to be read: `bytes` when the caller has already read and checked them (seeder/input/part-check.ts). */
export interface OpenedPart {
  readonly file: string;
  readonly entry: PartEntry;
  readonly bytes?: Buffer;
}

/**
 * Opens the parts of one stream in order. The default reads each part from its file and
 * checks its sha256 and record count at its end; seed passes one that checks a whole part
 * before any of it is handed out.
 */
export type PartOpener = (dir: string, parts: readonly PartEntry[]) => AsyncIterable<OpenedPart>;

export interface MergeOptions<E> {
  /** First index to hand out (earlier events are merged past, not decoded; parts wholly before it are not read: skipPlan). */
  readonly start?: number;
  readonly decode: (bytes: Buffer) => E;
  readonly openParts?: PartOpener;
  /** Events per batch handed out (default 256: short-lived batches keep the young GC generation cheap). */
  readonly batchSize?: number;
}

export async function* readMergedEvents<E>(dir: string, streams: readonly EventStream[], options: MergeOptions<E>): AsyncGenerator<EventBatch<E>> {
  const start = options.start ?? 0;
  const batchSize = options.batchSize ?? 256;
  const openParts = options.openParts ?? filesInOrder;
  const plan = skipPlan(streams, start);
  let index = plan.index;
  const cursors: Cursor[] = [];
  for (const [i, stream] of streams.entries()) {
    cursors.push(new Cursor(stream.moduleIndex, recordBatches(dir, stream.entry.parts.slice(plan.skip[i]), openParts)));
  }
  try {
    const active: Cursor[] = [];
    for (const cursor of cursors) if (await cursor.next()) active.push(cursor);
    let out: E[] = [];
    let outFirst = index;
    while (active.length > 0) {
      if (active.length > 1) for (const c of active) c.readTime();
      // The cursor to take from, and the head it may run up to (the best of the others).
      let best = active[0]!;
      for (const c of active) if (c.before(best)) best = c;
      let bound: Cursor | null = null;
      for (const c of active) if (c !== best && (!bound || c.before(bound))) bound = c;
      for (;;) {
        if (index >= start) {
          if (out.length === 0) outFirst = index;
          out.push(best.decode(options.decode));
          if (out.length >= batchSize) {
            yield { first: outFirst, events: out };
            out = [];
          }
        }
        index++;
        // Hand out what is decoded before reading on: the next batch may be of a part that fails its check.
        if (best.atBatchEnd() && out.length > 0) {
          yield { first: outFirst, events: out };
          out = [];
        }
        if (!(await best.next())) {
          active.splice(active.indexOf(best), 1);
          break;
        }
        if (bound) {
          best.readTime();
          if (!best.before(bound)) break;
        }
      }
    }
    if (out.length > 0) yield { first: outFirst, events: out };
  } finally {
    await Promise.all(cursors.map((c) => c.close()));
  }
}

/** Where a merge from `start` begins without reading: leading parts to skip per stream, and the merged index of the first record after them. */
export interface SkipPlan {
  /** Per stream (in the order given), how many of its first parts are not read. */
  readonly skip: readonly number[];
  /** Merged index the merge counts from: the records of the skipped parts. */
  readonly index: number;
}

/**
 * Which parts a merge from index `start` need not read (skipped parts are not opened, not
 * checked, not gunzipped).
 *
 * One stream: its parts are the merged order, so the parts wholly before `start` by record
 * count.
 *
 * Several streams: by the parts' `keyRange` (transform records each events part's first and
 * last occurred_at). Records are compared by (occurred_at, module index) — the merged order
 * refines it. For a key K, let U(K) be the records of the parts whose first key is < K: at least
 * every record < K, so when U(K) <= start no record < K is handed out. Take the largest such K
 * (the first key of the part, in first-key order, that would carry U past `start`; past every
 * part when none does) and skip, per stream, the leading parts whose last key is < K. Every
 * skipped record is < K and precedes every record >= K; the records < K that are left (in parts
 * straddling K) are merged past as before. So counting from the skipped records, the count is
 * exact again at the first record >= K, and before it stays below U(K) <= start: nothing
 * early is handed out, and every index from `start` on is the one a full read gives.
 *
 * A data set whose non-empty parts do not all have a key range of occurred_at (written before
 * it was recorded, or by another writer) is read from its first parts, as before.
 */
export function skipPlan(streams: readonly EventStream[], start: number): SkipPlan {
  const none: SkipPlan = { skip: streams.map(() => 0), index: 0 };
  if (start <= 0) return none;
  if (streams.length === 1) {
    const parts = streams[0]!.entry.parts;
    let index = 0;
    let skip = 0;
    while (skip < parts.length && index + parts[skip]!.records <= start) index += parts[skip++]!.records;
    return { skip: [skip], index };
  }
  const bounds: (PartBounds | null)[][] = [];
  const byFirst: { first: Key; records: number }[] = [];
  for (const stream of streams) {
    const ofStream: (PartBounds | null)[] = [];
    for (const part of stream.entry.parts) {
      if (part.records === 0) {
        ofStream.push(null);
        continue;
      }
      const first = occurredAtOf(part.keyRange?.first);
      const last = occurredAtOf(part.keyRange?.last);
      if (first === null || last === null) return none;
      const b = { first: { at: first, module: stream.moduleIndex }, last: { at: last, module: stream.moduleIndex } };
      ofStream.push(b);
      byFirst.push({ first: b.first, records: part.records });
    }
    bounds.push(ofStream);
  }
  byFirst.sort((a, b) => compareKeys(a.first, b.first));
  // The cut K: null stands for past every record.
  let cut: Key | null = null;
  let upTo = 0;
  for (const p of byFirst) {
    if (upTo + p.records > start) {
      cut = p.first;
      break;
    }
    upTo += p.records;
  }
  const skip: number[] = [];
  let index = 0;
  for (const [s, stream] of streams.entries()) {
    const parts = stream.entry.parts;
    let n = 0;
    while (n < parts.length) {
      const b = bounds[s]![n];
      if (b && cut && compareKeys(b.last, cut) >= 0) break;
      index += parts[n]!.records;
      n++;
    }
    skip.push(n);
  }
  return { skip, index };
}

/** (occurred_at, module index): the merged order, coarsened to what a part's key range tells. */
interface Key {
  readonly at: bigint;
  readonly module: number;
}

interface PartBounds {
  readonly first: Key;
  readonly last: Key;
}

function compareKeys(a: Key, b: Key): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.module - b.module;
}

/** An occurred_at as a key range holds it (a number when exact, else decimal text); null for anything else. */
function occurredAtOf(value: unknown): bigint | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : null;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt(value);
  return null;
}

/** Every event of the data set in `dir`, decoded, in merged order (batches). Refuses an incomplete data set. */
export async function* decodeEvents<E>(dir: string, decode: (bytes: Buffer) => E): AsyncGenerator<E[]> {
  const streams = eventStreams(await readManifest(dir), dir);
  checkEventsComplete(streams, dir);
  for await (const batch of readMergedEvents(dir, streams, { decode })) yield batch.events;
}

async function* filesInOrder(dir: string, parts: readonly PartEntry[]): AsyncGenerator<OpenedPart> {
  for (const entry of parts) yield { file: join(dir, entry.file), entry };
}

interface RecordBatch {
  readonly file: string;
  /** Index in its part of `records[0]`. */
  readonly first: number;
  readonly records: Buffer[];
}

async function* recordBatches(dir: string, parts: readonly PartEntry[], openParts: PartOpener): AsyncGenerator<RecordBatch> {
  if (parts.length === 0) return;
  for await (const part of openParts(dir, parts)) {
    let first = 0;
    for await (const records of readPartBatches(part.file, { expect: part.entry, checkedBytes: part.bytes })) {
      yield { file: part.file, first, records };
      first += records.length;
    }
  }
}

const wire = new ProtoReader();

/** One stream's position in the merge: its current record and that record's occurred_at. */
class Cursor {
  private batch: RecordBatch | null = null;
  private at = -1;
  /** occurred_at of the current record: signed high and unsigned low 32 bits. */
  private hi = 0;
  private lo = 0;
  /** Whether hi/lo are the current record's (each record's time is read once). */
  private timed = false;

  constructor(
    private readonly moduleIndex: number,
    private readonly batches: AsyncGenerator<RecordBatch>,
  ) {}

  /** Moves to the next record; false at the stream's end. */
  async next(): Promise<boolean> {
    this.timed = false;
    if (this.batch && ++this.at < this.batch.records.length) return true;
    for (;;) {
      const step = await this.batches.next();
      if (step.done) {
        this.batch = null;
        return false;
      }
      if (step.value.records.length === 0) continue;
      this.batch = step.value;
      this.at = 0;
      return true;
    }
  }

  /** True on the last record of the batch in hand: the next one needs a read (and maybe a part check). */
  atBatchEnd(): boolean {
    return this.at === this.batch!.records.length - 1;
  }

  /** Reads the current record's occurred_at (field 3 of the envelope; 0 when absent, as proto3 leaves it). */
  readTime(): void {
    if (this.timed) return;
    this.timed = true;
    const record = this.batch!.records[this.at]!;
    try {
      wire.reset(record);
      while (wire.pos < wire.end) {
        const tag = wire.uint32();
        if (tag === OCCURRED_AT_TAG) {
          wire.varint64();
          this.hi = wire.hi | 0;
          this.lo = wire.lo >>> 0;
          return;
        }
        wire.skip(tag & 7);
      }
      this.hi = 0;
      this.lo = 0;
    } catch (err) {
      throw this.corrupt(err);
    }
  }

  /** True when this cursor's record comes before `other`'s: (occurred_at, module index). */
  before(other: Cursor): boolean {
    if (this.hi !== other.hi) return this.hi < other.hi;
    if (this.lo !== other.lo) return this.lo < other.lo;
    return this.moduleIndex < other.moduleIndex;
  }

  decode<E>(decode: (bytes: Buffer) => E): E {
    try {
      return decode(this.batch!.records[this.at]!);
    } catch (err) {
      throw this.corrupt(err);
    }
  }

  close(): Promise<unknown> {
    return this.batches.return(undefined);
  }

  private corrupt(err: unknown): SeedlineError {
    const { file, first } = this.batch!;
    const record = first + this.at;
    return new SeedlineError('CORRUPT_RECORD_FILE', `${file}: record ${record} does not decode as an event envelope: ${messageOf(err)}`, {
      file,
      record,
      hint: 'the events data set is damaged; run seedline transform again',
    });
  }
}

/** Envelope field 3 (occurred_at), varint. */
const OCCURRED_AT_TAG = (3 << 3) | 0;
