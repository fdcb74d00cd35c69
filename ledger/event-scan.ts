import { messageOf } from '../common/errors.ts';
import { readMergedEvents, type EventStream, type PartOpener } from '../recordfile/index.ts';
import { decodeEnvelope } from '../seeder/broker/envelope.ts';
import { checkPart } from '../seeder/input/part-check.ts';
import { Selector, keySelected, type Selection } from '../seeder/pacing/select.ts';
import { toMicros } from '../seeder/pacing/schedule.ts';
import { unaccounted, type Term } from './balance.ts';

/** Why the seed left an event out: the flag that did it (checked in the seed's own order). */
export type NotSelectedReason = 'resumed' | '--limit' | '--from/--until' | '--types' | '--sample/--partition';

export interface TypeScan {
  /** Events of this type read from the parts. */
  read: number;
  selected: number;
  readonly notSelected: Partial<Record<NotSelectedReason, number>>;
}

export interface EventScan {
  readonly byType: Map<string, TypeScan>;
  /** Parts that could not be read to the end (their events count as not read). */
  readonly unreadable: readonly Term[];
}

/**
 * One pass over the events in the data set's one order (the per-module streams merged, as
 * seed reads them): events per type, and — given a seed's selection and the position it
 * started at — which of them the seed selected and why the others were not. Parts in `skip`
 * (missing or of the wrong size) are not read; a part whose sha256 differs is not read either
 * (every event of it is in doubt). Then the positions after a left-out part are off by its
 * events, as they would be for the seed, which refuses such a data set.
 */
export async function scanEvents(
  dir: string,
  streams: readonly EventStream[],
  skip: ReadonlySet<string>,
  seed?: { readonly selection: Selection; readonly startPosition: number },
): Promise<EventScan> {
  const byType = new Map<string, TypeScan>();
  const unreadable: Term[] = [];
  const why = seed ? classifier(seed.selection) : null;
  // Each part is checked whole before any of it is counted, so a damaged one drops out alone.
  const openParts: PartOpener = async function* (from, parts) {
    for (const entry of parts) {
      if (skip.has(entry.file)) continue;
      try {
        const checked = await checkPart(from, entry);
        yield { file: checked.file, entry, bytes: checked.bytes };
      } catch (err) {
        unreadable.push(unaccounted(`${entry.file} is damaged (${messageOf(err)})`, entry.records));
      }
    }
  };
  for await (const batch of readMergedEvents(dir, streams, { decode: decodeEnvelope, openParts })) {
    let index = batch.first;
    for (const e of batch.events) {
      let t = byType.get(e.type);
      if (!t) byType.set(e.type, (t = { read: 0, selected: 0, notSelected: {} }));
      t.read++;
      if (why) {
        const reason = index < seed!.startPosition ? 'resumed' : why(e);
        if (reason === null) t.selected++;
        else t.notSelected[reason] = (t.notSelected[reason] ?? 0) + 1;
      }
      index++;
    }
  }
  return { byType, unreadable };
}

/** The seed's selection (seeder/pacing/select.ts), saying which flag left an event out. */
function classifier(selection: Selection): (e: { type: string; key: string; occurred_at: number }) => NotSelectedReason | null {
  const all = new Selector(selection);
  const types = selection.types ? new Selector({ types: selection.types }) : null;
  return (e) => {
    if (all.full) return '--limit';
    const t = toMicros(e.occurred_at);
    if ((selection.fromMicros !== undefined && t < selection.fromMicros) || (selection.untilMicros !== undefined && t >= selection.untilMicros)) return '--from/--until';
    if (types && !types.accepts(e)) return '--types';
    if (!keySelected(e.key, selection)) return '--sample/--partition';
    return all.accepts(e) ? null : '--limit';
  };
}
