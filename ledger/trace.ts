import { join } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { checkEventsComplete, combinedEntry, eventStreams, readManifest, readPartBatches, type EventStream } from '../recordfile/index.ts';
import { decodeEnvelope } from '../seeder/broker/envelope.ts';
import { readRunReport, type RunReport } from '../seeder/report/report.ts';
import { Selector, type Selection } from '../seeder/pacing/select.ts';
import type { TapVerdict } from '../seeder/tap/tap.ts';
import { primaryKeyJson } from '../transformer/event-id.ts';
import { MODULES } from '../transformer/modules/index.ts';
import { findDumpRow, type DumpRow } from './dump-row.ts';
import { readTapVerdict } from './tap-balances.ts';
import { openTraceIndex, type TraceIndex } from './trace-index.ts';
import { findRejects, type TracedReject } from './trace-rejects.ts';

export interface TraceOptions {
  readonly dump: string;
  readonly events: string;
  readonly run?: string;
  readonly tap?: string;
  /** Told when the index has to be built first (the one slow trace). */
  readonly onIndexBuild?: (message: string) => void;
}

export interface TracedEvent {
  readonly id: string;
  readonly type: string;
  /** ISO time, microseconds. */
  readonly occurredAt: string;
  readonly key: string;
  /** Position in the data set's one (merged) order, as seed counts it; the stream and the part holding it. */
  readonly position: number;
  readonly stream: string;
  readonly file: string;
  /** With a run report: what the seed did with it. */
  readonly seed?: 'confirmed' | 'confirmed by an earlier run' | 'not selected' | 'not published by this run' | 'unroutable' | 'confirmed, maybe returned unroutable';
  /** With a tap verdict: whether tap saw it. */
  readonly tap?: 'arrived' | 'missing' | 'not expected' | 'arrived (as far as tap lists)';
}

export interface Trace {
  readonly table: string;
  readonly pkJson: string;
  /** The row as extracted; null when the dump has no such row. */
  readonly row: DumpRow | null;
  /** Modules that read the table. */
  readonly modules: readonly string[];
  readonly events: readonly TracedEvent[];
  readonly rejects: readonly TracedReject[];
  /** How the index was found: 'cached', 'built', 'built in memory'. */
  readonly index: TraceIndex['origin'];
  /** With `--event`: the id asked for. */
  readonly eventId?: string;
}

/** `seedline trace <table> <key>`: one legacy row from the dump to the broker. */
export async function traceRow(options: TraceOptions, table: string, key: string): Promise<Trace> {
  const bare = table.includes('.') ? table.slice(table.lastIndexOf('.') + 1) : table;
  const parts = splitKey(key);
  const ctx = await open(options);
  try {
    return await traceOf(ctx, options, bare, parts);
  } finally {
    await ctx.index.close();
  }
}

/** `seedline trace --event <id>`: the event, then the row it came from. */
export async function traceEvent(options: TraceOptions, id: string): Promise<Trace> {
  const ctx = await open(options);
  try {
    const found = (await readEvents(options.events, ctx, await ctx.index.byId(id))).find((e) => e.id === id);
    if (!found) {
      throw new SeedlineError('USAGE', `no event with id ${id} in ${options.events}`, { option: '--event', hint: 'copy the id from seedline inspect, a message_id on the broker, or tap\'s missing ids' });
    }
    const key = splitKey(found.sourcePrimaryKey);
    return { ...(await traceOf(ctx, options, found.sourceTable, key)), eventId: id };
  } finally {
    await ctx.index.close();
  }
}

interface Context {
  readonly streams: readonly EventStream[];
  readonly index: TraceIndex;
  readonly report?: RunReport;
  readonly verdict?: TapVerdict;
}

async function open(options: TraceOptions): Promise<Context> {
  const streams = eventStreams(await readManifest(options.events), options.events);
  checkEventsComplete(streams, options.events);
  const report = options.run ? await readRunReport(options.run) : undefined;
  const verdict = options.tap ? await readTapVerdict(options.tap) : undefined;
  const index = await openTraceIndex(options.events, streams, options.onIndexBuild);
  return { streams, index, ...(report ? { report } : {}), ...(verdict ? { verdict } : {}) };
}

async function traceOf(ctx: Context, options: TraceOptions, table: string, key: readonly string[]): Promise<Trace> {
  const pkJson = primaryKeyJson(key.length === 1 ? keyPart(key[0]!) : key.map(keyPart));
  const modules = MODULES.filter((m) => m.reads.includes(table)).map((m) => m.name);
  const [row, found, rejects] = await Promise.all([
    findDumpRow(options.dump, await readManifest(options.dump), table, key, pkJson),
    ctx.index.bySource(table, pkJson).then((locations) => readEvents(options.events, ctx, locations)),
    findRejects(options.events, modules, table, pkJson),
  ]);
  const events = found
    .filter((e) => e.sourceTable === table && e.sourcePrimaryKey === pkJson)
    .map((e): TracedEvent => ({
      id: e.id,
      type: e.type,
      occurredAt: isoMicros(e.occurred_at),
      key: e.key,
      position: e.position,
      stream: e.stream,
      file: e.file,
      ...(ctx.report ? { seed: seedFate(ctx.report, e) } : {}),
      ...(ctx.verdict ? { tap: tapFate(ctx.verdict, e) } : {}),
    }));
  return { table, pkJson, row, modules, events, rejects, index: ctx.index.origin };
}

interface FoundEvent {
  readonly id: string;
  readonly type: string;
  readonly occurred_at: number;
  readonly key: string;
  readonly sourceTable: string;
  readonly sourcePrimaryKey: string;
  readonly position: number;
  readonly stream: string;
  readonly file: string;
}

/**
 * The events at these locations (trace-index.ts: the streams laid end to end): each part
 * holding one is read up to the last of them, and only they are decoded.
 */
async function readEvents(events: string, ctx: Context, locations: readonly number[]): Promise<FoundEvent[]> {
  const out: FoundEvent[] = [];
  const streamOfPart = new Map(ctx.streams.flatMap((s) => s.entry.parts.map((p) => [p, s.name] as const)));
  let first = 0;
  for (const part of combinedEntry(ctx.streams).parts) {
    const wanted = new Set(locations.filter((p) => p >= first && p < first + part.records).map((p) => p - first));
    if (wanted.size > 0) {
      const last = Math.max(...wanted);
      let index = 0;
      reading: for await (const batch of readPartBatches(join(events, part.file))) {
        for (const bytes of batch) {
          if (wanted.has(index)) {
            const e = decodeEnvelope(bytes);
            const position = await ctx.index.positionOf(first + index);
            out.push({ id: e.id, type: e.type, occurred_at: e.occurred_at, key: e.key, sourceTable: e.sourceTable, sourcePrimaryKey: e.sourcePrimaryKey, position, stream: streamOfPart.get(part)!, file: part.file });
          }
          if (++index > last) break reading;
        }
      }
    }
    first += part.records;
  }
  return out;
}

/**
 * What the seed run did with an event, from its report: the report keeps the selection, where
 * the run started and how far its confirms got, and returns per type (not per event).
 */
function seedFate(report: RunReport, e: FoundEvent): NonNullable<TracedEvent['seed']> {
  const result = report.result;
  if (!passes(report.selection, e)) return 'not selected';
  if (!result) return 'not published by this run';
  if (e.position < result.startPosition) return 'confirmed by an earlier run';
  if (e.position >= result.position) return 'not published by this run';
  const returned = result.returned[e.type] ?? 0;
  if (returned === 0) return 'confirmed';
  return 'confirmed, maybe returned unroutable';
}

/** The per-event part of a selection (--limit is judged by the run's position). */
function passes(s: Selection, e: FoundEvent): boolean {
  return new Selector({ ...s, limit: undefined }).accepts(e);
}

function tapFate(v: TapVerdict, e: FoundEvent): NonNullable<TracedEvent['tap']> {
  const t = v.byType[e.type];
  if (!t) return 'not expected';
  if (v.missingIds.includes(e.id)) return 'missing';
  if (t.arrived === t.expected) return 'arrived';
  return 'arrived (as far as tap lists)';
}

/** `42` → ['42']; `3,5` → ['3', '5'] (composite keys); `[3,5]` too. */
function splitKey(key: string): string[] {
  const text = key.trim().replace(/^\[(.*)\]$/, '$1');
  const parts = text.split(',').map((p) => p.trim().replace(/^"(.*)"$/, '$1'));
  if (parts.some((p) => p === '')) throw new SeedlineError('USAGE', `a key is one value, or several separated by commas, got '${key}'`, { option: '<key>' });
  return parts;
}

function keyPart(text: string): bigint | string {
  return /^-?\d+$/.test(text) ? BigInt(text) : text;
}

function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(us % 1000).padStart(3, '0')}Z`;
}
