import { SeedlineError, messageOf } from '../common/errors.ts';
import { readPartBatches, type StreamEntry } from '../recordfile/index.ts';
import { checkedParts } from './part-check.ts';

/** Decoded events handed on per batch: small batches keep the young GC generation cheap. */
const BATCH = 256;

export interface EventBatch<E> {
  /** Stream index of `events[0]`; the others follow without gaps. */
  readonly first: number;
  readonly events: E[];
}

/**
 * The events of a stream from index `start` on, in order. Whole parts before `start` are
 * not read at all (the manifest says how many records each holds); inside the part where
 * `start` falls, earlier records are split off but not decoded. Every part that is read is
 * checked against the manifest's size and sha256 before any of its events is handed out
 * (the next part is checked while this one is published: seeder/part-check.ts), and its
 * record count at its end.
 */
export async function* readEventsFrom<E>(
  dir: string,
  stream: StreamEntry,
  start: number,
  decode: (bytes: Buffer) => E,
): AsyncGenerator<EventBatch<E>> {
  // Parts wholly before `start` are skipped unread.
  let partFirst = 0;
  let skip = 0;
  while (skip < stream.parts.length && partFirst + stream.parts[skip]!.records <= start) partFirst += stream.parts[skip++]!.records;
  for await (const { file, entry, bytes } of checkedParts(dir, stream.parts.slice(skip))) {
    const partEnd = partFirst + entry.records;
    let index = partFirst;
    for await (const raw of readPartBatches(file, { expect: entry, checkedBytes: bytes })) {
      const batchEnd = index + raw.length;
      let from = Math.max(0, start - index);
      while (from < raw.length) {
        const to = Math.min(raw.length, from + BATCH);
        const events: E[] = new Array(to - from);
        for (let i = from; i < to; i++) {
          try {
            events[i - from] = decode(raw[i]!);
          } catch (err) {
            const record = index - partFirst + i;
            throw new SeedlineError('CORRUPT_RECORD_FILE', `${file}: record ${record} does not decode as an event envelope: ${messageOf(err)}`, {
              file,
              record,
              hint: 'the events data set is damaged; run seedline transform again',
            });
          }
        }
        yield { first: index + from, events };
        from = to;
      }
      index = batchEnd;
    }
    partFirst = partEnd;
  }
}
