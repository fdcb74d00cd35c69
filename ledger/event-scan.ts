import { join } from 'node:path';
import { messageOf } from '../common/errors.ts';
import { decodePart, type StreamEntry } from '../recordfile/index.ts';
import { decodeEnvelope } from '../seeder/broker/envelope.ts';
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
 * One pass over the events stream: events per type, and — given a seed's selection and the
 * position it started at — which of them the seed selected and why the others were not.
 * Parts in `skip` (missing or of the wrong size) are not read.
 */
export async function scanEvents(
  dir: string,
  stream: StreamEntry,
  skip: ReadonlySet<string>,
  seed?: { readonly selection: Selection; readonly startPosition: number },
): Promise<EventScan> {
  const byType = new Map<string, TypeScan>();
  const unreadable: Term[] = [];
  const why = seed ? classifier(seed.selection) : null;
  let position = 0;
  for (const part of stream.parts) {
    const first = position;
    position += part.records;
    if (skip.has(part.file)) continue;
    let index = first;
    try {
      for await (const batch of decodePart(join(dir, part.file), (b) => decodeEnvelope(b as Buffer), { expect: part })) {
        for (const e of batch) {
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
    } catch (err) {
      // Read to the end but the sha256 or count differs: every event of the part is in doubt.
      const left = first + part.records - index;
      unreadable.push(unaccounted(`${part.file} is damaged (${messageOf(err)})`, left > 0 ? left : part.records));
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
