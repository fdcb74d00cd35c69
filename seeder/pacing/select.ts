import { SeedlineError } from '../../common/errors.ts';
import { formatCount } from '../../common/progress.ts';
import type { EventEnvelope } from '../../common/protos.ts';
import { toMicros } from './schedule.ts';

/**
 * Which events of a data set a run publishes. Whole keys are kept or dropped by a stable
 * hash of the key (`--sample`, `--partition`), so a sample keeps its referential integrity
 * (a member's registration travels with their messages) and per-key order is untouched.
 */
export interface Selection {
  /** occurred_at ≥ this (µs since epoch). */
  readonly fromMicros?: number;
  /** occurred_at < this (µs since epoch). */
  readonly untilMicros?: number;
  /** Globs on the event type (`chat.*`, `members.member-registered`); any may match. */
  readonly types?: readonly string[];
  /** Stop after this many selected events. */
  readonly limit?: number;
  /** Keep this fraction of keys (0 < sample ≤ 1). */
  readonly sample?: number;
  /** Keep only keys whose hash falls into partition `index` of `count`. */
  readonly partition?: { readonly index: number; readonly count: number };
}

/** The text flags, as a CLI gets them. */
export interface SelectionFlags {
  from?: string;
  until?: string;
  types?: string;
  limit?: string;
  sample?: string;
  partition?: string;
}

export function parseSelection(flags: SelectionFlags): Selection {
  const selection: { -readonly [K in keyof Selection]: Selection[K] } = {};
  if (flags.from !== undefined) selection.fromMicros = parseTime('--from', flags.from);
  if (flags.until !== undefined) selection.untilMicros = parseTime('--until', flags.until);
  if (selection.fromMicros !== undefined && selection.untilMicros !== undefined && selection.untilMicros <= selection.fromMicros) {
    throw usage('--until', `--until (${flags.until}) must be after --from (${flags.from})`);
  }
  if (flags.types !== undefined) {
    const types = flags.types.split(',').map((t) => t.trim()).filter(Boolean);
    if (types.length === 0) throw usage('--types', `--types expects comma-separated globs like 'chat.*,members.member-registered', got '${flags.types}'`);
    selection.types = types;
  }
  if (flags.limit !== undefined) {
    const n = Number(flags.limit);
    if (!Number.isInteger(n) || n < 1) throw usage('--limit', `--limit must be a whole number ≥ 1, got '${flags.limit}'`);
    selection.limit = n;
  }
  if (flags.sample !== undefined) {
    const m = /^(\d+(?:\.\d+)?)%$/.exec(flags.sample.trim());
    const pct = m ? Number(m[1]) : Number.NaN;
    if (!(pct > 0 && pct <= 100)) throw usage('--sample', `--sample must be a percentage of keys above 0 and at most 100, like 10%, got '${flags.sample}'`);
    selection.sample = pct / 100;
  }
  if (flags.partition !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flags.partition.trim());
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (!m || count < 1 || index >= count) throw usage('--partition', `--partition must be i/N with 0 ≤ i < N, like 0/4, got '${flags.partition}'`);
    selection.partition = { index, count };
  }
  return selection;
}

export function isEmptySelection(s: Selection): boolean {
  return Object.values(s).every((v) => v === undefined);
}

/** A selection in words, for logs and the report: `from 2024-03-01T00:00:00.000Z, types chat.*, the first 34,000 events`. */
export function describeSelection(s: Selection): string {
  const at = (micros: number) => new Date(micros / 1000).toISOString();
  const parts: string[] = [];
  if (s.fromMicros !== undefined) parts.push(`from ${at(s.fromMicros)}`);
  if (s.untilMicros !== undefined) parts.push(`until ${at(s.untilMicros)}`);
  if (s.types) parts.push(`types ${s.types.join(', ')}`);
  if (s.sample !== undefined) parts.push(`${Number((s.sample * 100).toPrecision(6))}% of the keys`);
  if (s.partition) parts.push(`partition ${s.partition.index} of ${s.partition.count} (0-based)`);
  if (s.limit !== undefined) parts.push(`the first ${formatCount(s.limit)} selected events`);
  return parts.length ? parts.join('; ') : 'every event';
}

/** Says per event whether it is selected; stateful only for `limit`. */
export class Selector {
  selected = 0;
  private readonly typeRegex: RegExp | null;
  /** The --types globs no selected event matched yet (checked only while there are any). */
  private unmatched: { readonly glob: string; readonly regex: RegExp }[];

  constructor(readonly selection: Selection) {
    const types = selection.types;
    this.typeRegex = types ? new RegExp(`^(?:${types.map(globToRegex).join('|')})$`) : null;
    this.unmatched = (types ?? []).map((glob) => ({ glob, regex: new RegExp(`^(?:${globToRegex(glob)})$`) }));
  }

  /** The --types globs that matched no selected event (a typo publishes nothing of it, silently). */
  get globsWithoutEvents(): string[] {
    return this.unmatched.map((g) => g.glob);
  }

  /** True when the selection drops any event (the run then reads faster than it publishes). */
  get active(): boolean {
    return !isEmptySelection(this.selection);
  }

  get limit(): number | undefined {
    return this.selection.limit;
  }

  /** True once `limit` events were selected: the caller can stop reading. */
  get full(): boolean {
    return this.selection.limit !== undefined && this.selected >= this.selection.limit;
  }

  accepts(event: Pick<EventEnvelope, 'type' | 'key' | 'occurred_at'>): boolean {
    if (this.full) return false;
    const s = this.selection;
    if (s.fromMicros !== undefined || s.untilMicros !== undefined) {
      const t = toMicros(event.occurred_at);
      if (s.fromMicros !== undefined && t < s.fromMicros) return false;
      if (s.untilMicros !== undefined && t >= s.untilMicros) return false;
    }
    if (this.typeRegex && !this.typeRegex.test(event.type)) return false;
    if (!keySelected(event.key, s)) return false;
    this.selected++;
    if (this.unmatched.length > 0) this.unmatched = this.unmatched.filter((g) => !g.regex.test(event.type));
    return true;
  }

  /** Filters decoded batches; stops reading the data set once `limit` is reached. */
  async *filter<T extends Pick<EventEnvelope, 'type' | 'key' | 'occurred_at'>>(batches: AsyncIterable<T[]>): AsyncGenerator<T[]> {
    for await (const batch of batches) {
      const kept = batch.filter((e) => this.accepts(e));
      if (kept.length > 0) yield kept;
      if (this.full) return;
    }
  }
}

/** The globs of `types` that match none of the `known` event types (a data set's eventsByType). */
export function globsMatchingNothing(types: readonly string[], known: readonly string[]): string[] {
  return types.filter((glob) => {
    const regex = new RegExp(`^(?:${globToRegex(glob)})$`);
    return !known.some((type) => regex.test(type));
  });
}

/** The key-level part of a selection (sample and partition): the same answer for every event of a key. */
export function keySelected(key: string, s: Selection): boolean {
  if (s.sample === undefined && s.partition === undefined) return true;
  const h = keyHash(key);
  // Two independent mixes of one hash, so sampling and partitioning do not correlate.
  if (s.sample !== undefined && mix(h, 0x9e3779b9) / 2 ** 32 >= s.sample) return false;
  if (s.partition !== undefined && mix(h, 0x85ebca6b) % s.partition.count !== s.partition.index) return false;
  return true;
}

/** FNV-1a (32 bit) over the key's UTF-16 code units. Stable across machines and versions: documented in RATES.md. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser over h ^ seed: spreads FNV's weak low bits. */
function mix(h: number, seed: number): number {
  let x = (h ^ seed) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function globToRegex(glob: string): string {
  return glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
}

/** `2021-03-01`, `2021-03-01T12:00`, `…:00:00.5`, with `Z`, `+02:00` or `+0200`, or no zone (then UTC). */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An ISO time as µs since the epoch. Without a zone it is UTC (as RATES.md says: the events'
 * occurred_at is UTC), never the machine's zone; a date that does not exist (2016-02-30,
 * 25:00) is refused instead of rolling over.
 */
export function parseTime(option: string, text: string): number {
  const m = ISO_TIME.exec(text.trim());
  const bad = (why: string) => usage(option, `${option} must be an ISO time like 2021-03-01, 2021-03-01T12:00:00 (UTC) or 2021-03-01T12:00:00+02:00${why}, got '${text}'`);
  if (!m) fail(bad(''));
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth) fail(bad(`; ${m[1]}-${m[2]} has no day ${m[3]}`));
  if (hour > 23 || minute > 59 || second > 59) fail(bad('; hours go to 23, minutes and seconds to 59'));
  let ms = Date.UTC(year!, month! - 1, day!, hour, minute, second);
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(z[2]) > 23 || Number(z[3]) > 59) fail(bad(`; '${zone}' is not a zone offset`));
    ms -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000;
  }
  const fraction = m[7] ? Math.round(Number(m[7]) * 1e6) : 0;
  return ms * 1000 + fraction;
}

function fail(error: SeedlineError): never {
  throw error;
}

function usage(option: string, message: string): SeedlineError {
  return new SeedlineError('USAGE', message, { option, hint: 'see seeder/RATES.md for the selection options' });
}
