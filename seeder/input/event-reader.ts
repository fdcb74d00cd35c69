import { readMergedEvents, type EventBatch, type EventStream } from '../../recordfile/index.ts';
import { checkedParts } from './part-check.ts';

export type { EventBatch };

/**
 * The events of a data set from index `start` (in its merged order: recordfile/merged-events.ts)
 * on. Earlier events are merged past but not decoded; parts wholly before `start` are not
 * read (nor checked) at all: with several streams by their key ranges (recordfile/merged-events.ts
 * `skipPlan`). Every part that is read is checked against the manifest's size
 * and sha256 before any of its events is handed out (the next part of each stream is checked
 * while this one is published: seeder/input/part-check.ts), and its record count at its end.
 */
export function readEventsFrom<E>(
  dir: string,
  streams: readonly EventStream[],
  start: number,
  decode: (bytes: Buffer) => E,
): AsyncGenerator<EventBatch<E>> {
  return readMergedEvents(dir, streams, { start, decode, openParts: checkedParts });
}
