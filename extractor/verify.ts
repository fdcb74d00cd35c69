import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { isSeedlineError, messageOf, SeedlineError } from '../common/errors.ts';
import { Progress, formatBytes, formatCount } from '../common/progress.ts';
import { int64ToBigInt, loadProtos, lookupType } from '../common/protos.ts';
import { readManifest, readPartBatches, type StreamEntry } from '../recordfile/index.ts';
import { openSource, type OpenSourceOptions } from './open-source.ts';
import { columnFields } from './proto-names.ts';
import type { Source } from './source.ts';
import { describeFacts, recordedFacts, type RecordedFacts } from './dump-facts.ts';

export interface VerifyOptions {
  /** A source URL: also compare each table's row count (and key sum, where cheap) with it. */
  readonly against?: string;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
  /** Compare with a database other than the one the manifest names as the dump's source (`sourceIdentity`). */
  readonly allowOtherSource?: boolean;
  /** Another adapter (tests); default: chosen by the URL's scheme. */
  readonly openSource?: (url: string) => Source | Promise<Source>;
  /** MS SQL: count with READ COMMITTED when SNAPSHOT is off; default: as the dump was extracted. */
  readonly allowReadCommitted?: boolean;
}

/** How `--source` opens the source: with the isolation choice the dump was extracted with, unless told otherwise. */
export function againstSourceOptions(url: string, snapshot: Record<string, unknown> | undefined, options: Pick<VerifyOptions, 'allowReadCommitted'>): OpenSourceOptions {
  const allowReadCommitted = options.allowReadCommitted ?? snapshot?.allowReadCommitted === true;
  return { source: url, ...(allowReadCommitted ? { allowReadCommitted } : {}) };
}

/** How one stream of the dump compares with the live table. */
export interface SourceComparison {
  readonly table: string;
  readonly rows: number;
  /** Sum of the single integer key column in the database / in the dump; absent when not cheap. */
  readonly keySum?: { readonly source: string; readonly dump: string };
  /** Why nothing was compared (the adapter cannot count, the table is gone ...). */
  readonly skipped?: string;
}

export interface StreamCheck {
  readonly stream: string;
  readonly parts: number;
  /** Records read back from the parts (each part checked against the manifest). */
  readonly records: number;
  readonly compressedBytes: number;
  readonly complete: boolean;
  /** Each problem names the file (or table) at fault; empty when the stream is sound. */
  readonly problems: readonly string[];
  /**
   * How the live table differs from a sound stream: the source changed since the snapshot
   * (the dump still holds the data as it was then). Only when `problems` is empty: a damaged
   * stream's counts say nothing about the source.
   */
  readonly sourceChanges?: readonly string[];
  readonly source?: SourceComparison;
}

export interface VerifyResult {
  readonly dir: string;
  /** manifest.complete: the run that wrote the dump finished. */
  readonly complete: boolean;
  readonly ok: boolean;
  readonly streams: readonly StreamCheck[];
  /** Snapshot(s) and options the manifest records (dump-facts.ts). */
  readonly recorded?: RecordedFacts;
}

/**
 * Checks a dump: every part's sha256 and record count against the manifest, every record
 * decodes with its .proto, the stream totals add up. With `against`, each table's row count
 * (and the sum of a single integer key) is compared with the live database, read in one
 * read-only snapshot. Problems are collected, not thrown, so one run lists all of them.
 */
export async function verifyDump(dir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const manifest = await readManifest(dir);
  const progress = new Progress({ label: 'verify', mode: options.progress ?? 'auto' });
  let shown = '';
  progress.set(() => shown);
  const snapshot = manifest.producer.snapshot as Record<string, unknown> | undefined;
  const source = options.against ? await (options.openSource ?? ((url: string) => openSource(againstSourceOptions(url, snapshot, options))))(options.against) : null;
  try {
    if (source) checkSourceIdentity(dir, manifest.producer.snapshot, await source.connect(), options.against!, options.allowOtherSource ?? false);
    const streams: StreamCheck[] = [];
    for (const [name, entry] of Object.entries(manifest.streams)) {
      options.signal?.throwIfAborted();
      const check = await checkStream(dir, name, entry, (n) => (shown = `${name} ${formatCount(n)}/${formatCount(entry.records)} records`), options.signal);
      const compared = source ? await compareWithSource(source, name, entry, check.keySum) : undefined;
      const problems = [...check.problems];
      const changes: string[] = [];
      if (compared && !compared.skipped && problems.length === 0) {
        if (compared.rows !== check.records) changes.push(`${compared.table} holds ${compared.rows} rows in the database, the dump ${check.records}`);
        if (compared.keySum && compared.keySum.source !== compared.keySum.dump) {
          changes.push(`${compared.table}: the sum of its keys is ${compared.keySum.source} in the database, ${compared.keySum.dump} in the dump`);
        }
      }
      streams.push({
        stream: name,
        parts: entry.parts.length,
        records: check.records,
        compressedBytes: check.compressedBytes,
        complete: entry.complete,
        problems,
        ...(changes.length ? { sourceChanges: changes } : {}),
        ...(compared ? { source: compared } : {}),
      });
    }
    const ok = manifest.complete && streams.every((s) => s.complete && s.problems.length === 0 && !s.sourceChanges?.length);
    progress.done(`${streams.length} streams, ${ok ? 'all sound' : 'PROBLEMS found'}`);
    return { dir, complete: manifest.complete, ok, streams, recorded: recordedFacts(manifest) };
  } catch (err) {
    progress.done('');
    throw err;
  } finally {
    await source?.close();
  }
}

interface StreamRead {
  readonly records: number;
  readonly compressedBytes: number;
  readonly problems: string[];
  /** Sum of the single integer key field over every record, when there is one. */
  readonly keySum?: string;
}

async function checkStream(dir: string, name: string, entry: StreamEntry, onRecords: (n: number) => void, signal?: AbortSignal): Promise<StreamRead> {
  const problems: string[] = [];
  const protoFile = join(dir, entry.protoFile);
  let decode: ((bytes: Uint8Array) => Record<string, unknown>) | null = null;
  let keyField: string | null = null;
  try {
    const type = lookupType(await loadProtos([protoFile]), entry.messageType, [protoFile]);
    decode = (bytes) => type.decode(bytes) as unknown as Record<string, unknown>;
    keyField = summableKey(entry, type);
  } catch (err) {
    problems.push(`${protoFile}: ${messageOf(err)}`);
  }
  let keySum = 0n;
  let records = 0;
  let compressedBytes = 0;
  for (const part of entry.parts) {
    const file = join(dir, part.file);
    let index = 0;
    try {
      for await (const batch of readPartBatches(file, { expect: part })) {
        signal?.throwIfAborted();
        for (const bytes of batch) {
          if (decode) {
            let message: Record<string, unknown>;
            try {
              message = decode(bytes);
            } catch (err) {
              throw new SeedlineError('CORRUPT_RECORD_FILE', `${file}: record ${index} does not decode as ${entry.messageType}: ${messageOf(err)}`, { file, record: index });
            }
            if (keyField) keySum += int64ToBigInt((message[keyField] ?? 0) as number);
          }
          index++;
        }
        onRecords(records + index);
      }
      records += index;
      compressedBytes += part.compressedBytes;
    } catch (err) {
      if (!isSeedlineError(err) || err.code === 'INTERRUPTED') throw err;
      // Records of a damaged part are not counted: the file does not hold what the manifest says.
      problems.push(err.message);
    }
  }
  const declared = entry.parts.reduce((n, p) => n + p.records, 0);
  if (declared !== entry.records) problems.push(`${join(dir, 'manifest.json')}: stream ${name} says ${entry.records} records, its parts ${declared}`);
  if (!entry.complete) problems.push(`stream ${name} is incomplete (the extract was interrupted): run it again with --resume`);
  return { records, compressedBytes, problems, ...(keyField && decode ? { keySum: keySum.toString() } : {}) };
}

/** The key field whose values verify can add up: a single integer primary-key column. */
function summableKey(entry: StreamEntry, type: protobuf.Type): string | null {
  const key = entry.info?.primaryKey as readonly string[] | undefined;
  const field = key?.length === 1 ? columnFields(type).get(key[0]!) : undefined;
  return field && INTEGER_FIELDS.has(field.type) ? field.name : null;
}

const INTEGER_FIELDS = new Set(['int32', 'int64', 'sint32', 'sint64', 'sfixed32', 'sfixed64', 'uint32', 'uint64', 'fixed32', 'fixed64']);

async function compareWithSource(source: Source, name: string, entry: StreamEntry, dumpKeySum: string | undefined): Promise<SourceComparison> {
  const table = (entry.info?.table as string | undefined) ?? name;
  if (!source.countRows) return { table, rows: 0, skipped: `the ${source.dialect} adapter cannot count rows` };
  let info;
  try {
    info = await source.describeTable(table);
  } catch (err) {
    if (isSeedlineError(err, 'TABLE_NOT_FOUND')) return { table, rows: 0, skipped: `${table} no longer exists in the database` };
    throw err;
  }
  const counted = await source.countRows(info);
  const keySum = counted.keySum !== undefined && dumpKeySum !== undefined ? { source: counted.keySum, dump: dumpKeySum } : undefined;
  return { table, rows: counted.rows, ...(keySum ? { keySum } : {}) };
}

/**
 * Refuses to compare with another database than the dump's own: the manifest's
 * `producer.snapshot.sourceIdentity` (PostgreSQL: system identifier and database name; an
 * adapter that records none is not checked) against what the live source reports now.
 */
function checkSourceIdentity(dir: string, snapshot: Record<string, unknown> | undefined, live: Record<string, unknown>, against: string, allowed: boolean): void {
  const was = snapshot?.sourceIdentity;
  const now = live.sourceIdentity;
  if (was === undefined || now === undefined || allowed || JSON.stringify(was) === JSON.stringify(now)) return;
  throw new SeedlineError('USAGE', `${dir} was extracted from ${JSON.stringify(was)}, --source is ${JSON.stringify(now)}: another database`, {
    option: '--source',
    hint: 'point --source at the database the dump came from, or pass --allow-other-source to compare with this one anyway (a copy, a restored backup)',
  });
}

/** One line per stream: what verify found. */
export function verifySummary(result: VerifyResult): string {
  const lines = [`${result.dir}: ${result.ok ? 'OK' : 'FAILED'}${result.complete ? '' : ' (the dump is incomplete)'}`];
  const width = Math.max(0, ...result.streams.map((s) => s.stream.length));
  for (const s of result.streams) {
    const against = s.source ? (s.source.skipped ? `  database: not compared (${s.source.skipped})` : `  database: ${formatCount(s.source.rows)} rows${s.source.keySum ? ', key sum compared' : ''}`) : '';
    lines.push(`  ${s.problems.length ? 'BAD' : s.sourceChanges?.length ? 'chg' : 'ok '} ${s.stream.padEnd(width)}  ${formatCount(s.records).padStart(12)} records  ${String(s.parts).padStart(4)} parts  ${formatBytes(s.compressedBytes)}${against}`);
    for (const p of s.problems) lines.push(`      ${p}`);
    for (const c of s.sourceChanges ?? []) lines.push(`      ${c}`);
  }
  if (result.recorded) lines.push(...describeFacts(result.recorded));
  if (result.streams.some((s) => s.problems.length) || !result.complete) {
    lines.push('  → a damaged or missing part is not repaired in place: write the data set again with the stage that made it, with --overwrite');
  }
  if (result.streams.some((s) => s.sourceChanges?.length)) {
    lines.push('  → chg: the dump is sound, the database has changed since its snapshot; extract again (--overwrite) for the data as it is now');
  }
  return `${lines.join('\n')}\n`;
}

