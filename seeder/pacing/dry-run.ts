import { SeedlineError } from '../../common/errors.ts';
import { Progress, formatCount, formatDuration } from '../../common/progress.ts';
import { envelopeType, type EventEnvelope } from '../../common/protos.ts';
import { checkEventsComplete, eventCount, eventStreams, readManifest, readMergedEvents } from '../../recordfile/index.ts';
import { scheduleFor, type PaceOptions } from './pace-options.ts';
import { toMicros } from './schedule.ts';
import { Selector, type Selection } from './select.ts';

export interface DryRunOptions extends PaceOptions {
  readonly events: string;
  readonly selection?: Selection;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
}

export interface DryRunReport {
  readonly events: string;
  /** Events in the data set, and how many the selection keeps. */
  readonly total: number;
  readonly read: number;
  readonly selected: number;
  readonly byType: Readonly<Record<string, number>>;
  /** occurred_at of the earliest and latest selected event (ISO), absent when none. */
  readonly firstAt?: string;
  readonly lastAt?: string;
  /** Selected events whose occurred_at is earlier than an event before them in the stream. */
  readonly outOfOrder: number;
  /** The largest step back in time among them (ms). */
  readonly worstBackstepMs: number;
  /** What the schedule is, and how long publishing would take at it (absent when unpaced). */
  readonly schedule?: string;
  readonly expectedSeconds?: number;
}

/**
 * Everything `seed` would do except talk to the broker: reads the whole stream, applies the
 * selection and runs the schedule over the selected events, so the expected duration is what
 * the pacer would really need (ramps and replay gaps included, pauses and stalls not).
 */
export async function dryRun(options: DryRunOptions): Promise<DryRunReport> {
  const streams = eventStreams(await readManifest(options.events), options.events);
  checkEventsComplete(streams, options.events);
  const total = eventCount(streams);
  const schedule = scheduleFor(options);
  const selector = new Selector(options.selection ?? {});
  const Event = await envelopeType();
  const byType = new Map<string, number>();
  let read = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let outOfOrder = 0;
  let worstBackstep = 0;
  let lastOffset = 0;
  const progress = new Progress({ label: 'dry run', mode: options.progress ?? 'auto' });
  progress.set(() => `read ${formatCount(read)}/${formatCount(total)} · selected ${formatCount(selector.selected)}`);
  try {
    outer: for await (const batch of readMergedEvents(options.events, streams, { decode: (b) => Event.decode(b) as unknown as EventEnvelope })) {
      for (const event of batch.events) {
        if (options.signal?.aborted) throw new SeedlineError('INTERRUPTED', `dry run interrupted after ${formatCount(read)} events`);
        // Full after the limit's last event: the next one is not read (nor counted as read).
        if (selector.full) break outer;
        read++;
        if (!selector.accepts(event)) continue;
        const t = toMicros(event.occurred_at);
        if (t < max) {
          outOfOrder++;
          worstBackstep = Math.max(worstBackstep, (max - t) / 1000);
        }
        min = Math.min(min, t);
        max = Math.max(max, t);
        byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
        if (schedule) lastOffset = schedule.offsetOf(selector.selected - 1, t);
      }
    }
  } finally {
    progress.done();
  }
  const selected = selector.selected;
  return {
    events: options.events,
    total,
    read,
    selected,
    byType: Object.fromEntries([...byType].sort(([a], [b]) => (a < b ? -1 : 1))),
    ...(selected > 0 ? { firstAt: new Date(min / 1000).toISOString(), lastAt: new Date(max / 1000).toISOString() } : {}),
    outOfOrder,
    worstBackstepMs: Math.round(worstBackstep),
    ...(schedule ? { schedule: schedule.label, expectedSeconds: lastOffset / 1000 } : {}),
  };
}

export function formatDryRun(r: DryRunReport): string {
  const lines = [`dry run: ${r.events} (nothing was published)`];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(14)}${value}`);
  row('events', `${formatCount(r.selected)} selected of ${formatCount(r.total)}${r.read < r.total ? ` (stopped reading after ${formatCount(r.read)}: --limit)` : ''}`);
  for (const [type, n] of Object.entries(r.byType)) row('', `${type.padEnd(32)} ${formatCount(n).padStart(12)}`);
  if (r.firstAt) {
    const spanS = (Date.parse(r.lastAt!) - Date.parse(r.firstAt)) / 1000;
    row('time span', `${r.firstAt} … ${r.lastAt} (${formatDuration(spanS)})`);
  }
  row('out of order', r.outOfOrder === 0 ? '0' : `${formatCount(r.outOfOrder)} events earlier than one before them (worst ${formatDuration(r.worstBackstepMs / 1000)} back)`);
  if (r.schedule) row('duration', `${formatDuration(r.expectedSeconds!)} at ${r.schedule} (if the broker keeps up)`);
  else row('duration', 'unpaced: as fast as the broker confirms (give --rate, --speed or --stages for an estimate)');
  return lines.join('\n');
}
