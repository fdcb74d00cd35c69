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
 * only when it is handed out, so skipping to `start` costs a gunzip and a varint per record.
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
  /** First index to hand out (earlier events are merged past, not decoded). */
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
  let index = 0;
  const cursors: Cursor[] = [];
  for (const stream of streams) {
    let parts = stream.entry.parts;
    if (streams.length === 1) {
      // One stream: its parts wholly before `start` are not read at all.
      let skip = 0;
      while (skip < parts.length && index + parts[skip]!.records <= start) index += parts[skip++]!.records;
      parts = parts.slice(skip);
    }
    cursors.push(new Cursor(stream.moduleIndex, recordBatches(dir, parts, openParts)));
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
