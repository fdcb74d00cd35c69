import { resolve } from 'node:path';
import { eventCount, eventStreams, eventsByType, readManifest, type EventStream } from '../recordfile/index.ts';
import { readRunReport, type RunReport } from '../seeder/report/report.ts';
import { balance, isClosed, ok, openItems, type Balance, type Stage } from './balance.ts';
import { scanEvents, type EventScan } from './event-scan.ts';
import { buildFlow, type Flow } from './flow.ts';
import { extractBalances } from './extract-balances.ts';
import { transformInfoOf } from './events-info.ts';
import { checkPartFiles, type PartFiles } from './part-files.ts';
import { seedBalances } from './seed-balances.ts';
import { readTapVerdict, tapBalances } from './tap-balances.ts';
import { transformBalances, type TransformInfo } from './transform-balances.ts';

export interface LedgerOptions {
  readonly dump: string;
  readonly events: string;
  /** A seed run report (`seed --report run.json`), or what `seed()` returned and the selection it was given. */
  readonly run?: string | Pick<RunReport, 'selection' | 'result'>;
  /** A tap verdict (`tap --json tap.json`). */
  readonly tap?: string;
}

export interface LedgerResult {
  /** True when every balance closes: nothing is unaccounted for. */
  readonly balanced: boolean;
  /** The stages the ledger had figures for, in pipeline order. */
  readonly stages: readonly Stage[];
  readonly balances: readonly Balance[];
  readonly unaccounted: ReturnType<typeof openItems>;
  /** Headline figures for the verdict line and the flow picture. */
  readonly totals: LedgerTotals;
  /** Legacy tables → modules → event types → outcomes, for the page's picture. */
  readonly flow: Flow;
  readonly inputs: { readonly dump: string; readonly events: string; readonly run?: string; readonly tap?: string };
}

export interface LedgerTotals {
  readonly rowsExtracted: number;
  readonly rowsToEvents: number;
  readonly rowsRejected: number;
  readonly rowsDropped: number;
  readonly events: number;
  /** Confirmed by the broker and routed to a queue (with --run). */
  readonly routed?: number;
  readonly unroutable?: number;
  readonly notSelected?: number;
  /** Seen by tap (with --tap). */
  readonly arrived?: number;
  readonly unaccountedItems: number;
}

/**
 * `seedline ledger`: ties the counts every stage recorded into balances, one per stage
 * boundary, and lists whatever does not add up. Reads the manifests, the reject files, stats
 * every part, and — with a run report or tap verdict — reads the events once (per-type counts
 * and the seed's selection).
 */
export async function runLedger(options: LedgerOptions): Promise<LedgerResult> {
  const dumpManifest = await readManifest(options.dump);
  const eventsManifest = await readManifest(options.events);
  const streams = eventStreams(eventsManifest, options.events);
  const info = transformInfoOf(eventsManifest, streams);
  const report = typeof options.run === 'string' ? await readRunReport(options.run) : options.run;
  const verdict = options.tap ? await readTapVerdict(options.tap) : undefined;

  const balances: Balance[] = [...(await extractBalances(options.dump, dumpManifest)), ...(await transformBalances(dumpManifest, info, options.events))];

  const produced = Object.values(info.eventsByType ?? {}).reduce((n, c) => n + c, 0);
  const bad = new Set<string>();
  const otherDump = fromOtherDump(eventsManifest.producer.source, options.dump);
  for (const [i, stream] of streams.entries()) {
    const parts = await checkPartFiles(options.events, stream.entry);
    for (const file of parts.bad) bad.add(file);
    balances.push(streamBalance(stream, parts, i === 0 ? otherDump : []));
  }
  const scan = await scanEvents(options.events, streams, bad, report ? { selection: report.selection, startPosition: report.result?.startPosition ?? 0 } : undefined);
  balances.push(...eventTypeBalances(info, scan));
  if (report) balances.push(...seedBalances(report, scan, eventCount(streams)));
  if (verdict) balances.push(...tapBalances(verdict, report?.result?.returned));

  const stages: Stage[] = ['extract', 'transform', 'events', ...(report ? (['seed'] as const) : []), ...(verdict ? (['tap'] as const) : [])];
  const unaccounted = openItems(balances);
  return {
    balanced: balances.every(isClosed),
    stages,
    balances,
    unaccounted,
    flow: buildFlow(
      Object.fromEntries(Object.entries(dumpManifest.streams).map(([t, s]) => [t, s.records])),
      info,
      scan,
      report?.result ? { returned: report.result.returned } : undefined,
      verdict,
    ),
    totals: totalsOf(dumpManifest.streams, info, produced, scan, report, verdict, unaccounted.length),
    inputs: { dump: resolve(options.dump), events: resolve(options.events), ...(typeof options.run === 'string' ? { run: resolve(options.run) } : {}), ...(options.tap ? { tap: resolve(options.tap) } : {}) },
  };
}

/** A note when the events manifest names another dump than the one given (the counts then may not meet). */
function fromOtherDump(source: Record<string, unknown> | undefined, dump: string): string[] {
  const from = source?.['dump'];
  return typeof from === 'string' && from !== resolve(dump) ? [`transformed from ${from}, not from ${resolve(dump)}`] : [];
}

/** Per events stream (one per module): events the transform wrote = records in the parts on disk. */
function streamBalance(stream: EventStream, parts: PartFiles, notes: string[]): Balance {
  const wrote = Object.values(eventsByType([stream])).reduce((n, c) => n + c, 0);
  const subject = `${stream.name} stream`;
  return balance('events', subject, { label: 'events the transform wrote', count: wrote }, [ok(`in ${parts.present} part${parts.present === 1 ? '' : 's'} on disk`, parts.records), ...parts.problems], {
    extraLabel: 'more events in the parts than the transform counted',
    notes,
  });
}

/** Per event type: events the transform counted = events read back from the parts. */
function eventTypeBalances(info: TransformInfo, scan: EventScan): Balance[] {
  const types = new Set([...Object.keys(info.eventsByType ?? {}), ...scan.byType.keys()]);
  const out = [...types].sort().map((type) =>
    balance('events', type, { label: 'events the transform counted', count: info.eventsByType?.[type] ?? 0 }, [ok('read back from the parts', scan.byType.get(type)?.read ?? 0)], {
      missingLabel: 'in missing or damaged parts',
      extraLabel: 'more in the parts than the transform counted',
    }),
  );
  if (scan.unreadable.length > 0) out.push(balance('events', 'damaged parts', { label: 'events in damaged parts', count: 0 }, scan.unreadable));
  return out;
}

function totalsOf(
  dumpStreams: Record<string, { records: number }>,
  info: TransformInfo,
  events: number,
  scan: EventScan,
  report: Pick<RunReport, 'selection' | 'result'> | undefined,
  verdict: Awaited<ReturnType<typeof readTapVerdict>> | undefined,
  unaccountedItems: number,
): LedgerTotals {
  let toEvents = 0;
  let rejected = 0;
  let dropped = 0;
  for (const tables of Object.values(info.rowsByModule ?? {})) {
    for (const o of Object.values(tables)) {
      toEvents += o.toEvents;
      rejected += o.rejected;
      dropped += o.dropped;
    }
  }
  const base = {
    rowsExtracted: Object.values(dumpStreams).reduce((n, s) => n + s.records, 0),
    rowsToEvents: toEvents,
    rowsRejected: rejected,
    rowsDropped: dropped,
    events,
    unaccountedItems,
  };
  const seed = report?.result
    ? (() => {
        const selected = [...scan.byType.values()].reduce((n, t) => n + t.selected, 0);
        const read = [...scan.byType.values()].reduce((n, t) => n + t.read, 0);
        const unroutable = report.result.returnedTotal;
        return { routed: Math.min(selected, report.result.confirmed) - unroutable, unroutable, notSelected: read - selected };
      })()
    : {};
  return { ...base, ...seed, ...(verdict ? { arrived: verdict.arrived } : {}) };
}


