import { join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { MANIFEST_FILE, type Manifest, type PartEntry, type StreamEntry } from './manifest.ts';

/**
 * The layout of an events data set (what transform writes): ONE SORTED STREAM PER MODULE,
 * `events.<module>` (e.g. `events.chat`), the way a dump keeps one stream per table. Each
 * stream's `info.moduleIndex` is the module's position in the module list when it was written
 * (the tie-break of the order on equal occurred_at) and `producer.source.modules` lists the
 * modules in that order. Readers merge the streams (merged-events.ts) into the data set's one
 * order; positions (seed checkpoints, --limit) are indexes in that merged order.
 *
 * Data sets written before the split hold one stream, `events`, already in that order: they
 * are read as they are (a merge of one stream).
 */
export const MODULE_STREAM_PREFIX = 'events.';
/** The single stream of an events data set written before streams were split per module. */
export const SINGLE_EVENTS_STREAM = 'events';

export function moduleStreamName(module: string): string {
  return `${MODULE_STREAM_PREFIX}${module}`;
}

export interface EventStream {
  /** Stream name in the manifest, e.g. `events.chat` (or `events`). */
  readonly name: string;
  /** The module it holds (null for a single-stream data set). */
  readonly module: string | null;
  /** Tie-break on equal occurred_at: lower first. */
  readonly moduleIndex: number;
  readonly entry: StreamEntry;
}

/** The event streams of a data set in module order; an error naming the data set when it has none. */
export function eventStreams(manifest: Manifest, dir: string): EventStream[] {
  const single = manifest.streams[SINGLE_EVENTS_STREAM];
  if (single) return [{ name: SINGLE_EVENTS_STREAM, module: null, moduleIndex: 0, entry: single }];
  const streams: EventStream[] = [];
  for (const [name, entry] of Object.entries(manifest.streams)) {
    if (!name.startsWith(MODULE_STREAM_PREFIX)) continue;
    const index = entry.info?.['moduleIndex'];
    if (typeof index !== 'number' || !Number.isInteger(index)) {
      throw new SeedlineError('MANIFEST_INVALID', `${join(dir, MANIFEST_FILE)}: stream ${name} has no info.moduleIndex, so its place in the order is unknown`, {
        file: join(dir, MANIFEST_FILE),
        hint: 'run seedline transform again',
      });
    }
    streams.push({ name, module: name.slice(MODULE_STREAM_PREFIX.length), moduleIndex: index, entry });
  }
  if (streams.length === 0) {
    const known = Object.keys(manifest.streams).join(', ') || 'none';
    throw new SeedlineError('MANIFEST_INVALID', `${dir} is not an events data set: no events.<module> streams (it has: ${known})`, {
      file: join(dir, MANIFEST_FILE),
      hint: 'point at the directory that seedline transform wrote',
    });
  }
  return streams.sort((a, b) => a.moduleIndex - b.moduleIndex || (a.name < b.name ? -1 : 1));
}

/** Events in the data set: the sum over its streams. */
export function eventCount(streams: readonly EventStream[]): number {
  return streams.reduce((sum, s) => sum + s.entry.records, 0);
}

/** Refuses a data set whose transform did not finish (a stream still being written). */
export function checkEventsComplete(streams: readonly EventStream[], dir: string): void {
  const open = streams.filter((s) => !s.entry.complete);
  if (open.length > 0) {
    throw new SeedlineError('MANIFEST_INVALID', `${dir}: the events stream${open.length > 1 ? 's' : ''} ${open.map((s) => s.name).join(', ')} ${open.length > 1 ? 'are' : 'is'} incomplete (the transform did not finish)`, {
      file: dir,
      hint: 'run seedline transform again until it completes',
    });
  }
}

/**
 * The streams as one StreamEntry (every part, stream after stream in module order; records
 * summed): what a fingerprint of the whole data set is taken over. For a single-stream data
 * set it is that stream's own entry, so fingerprints of older data sets do not change.
 */
export function combinedEntry(streams: readonly EventStream[]): StreamEntry {
  if (streams.length === 1) return streams[0]!.entry;
  const parts: PartEntry[] = streams.flatMap((s) => s.entry.parts);
  return {
    messageType: streams[0]!.entry.messageType,
    protoFile: streams[0]!.entry.protoFile,
    complete: streams.every((s) => s.entry.complete),
    records: eventCount(streams),
    parts,
    info: { eventsByType: eventsByType(streams) },
  };
}

/** Event type → count over every stream (from the manifest; empty for data sets that did not record it). */
export function eventsByType(streams: readonly EventStream[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const s of streams) {
    const byType = s.entry.info?.['eventsByType'];
    if (!byType || typeof byType !== 'object') continue;
    for (const [type, n] of Object.entries(byType as Record<string, number>)) total[type] = (total[type] ?? 0) + n;
  }
  return Object.fromEntries(Object.keys(total).sort().map((t) => [t, total[t]!]));
}
