import { SeedlineError } from '../common/errors.ts';
import type { EventEnvelope } from '../common/protos.ts';
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

/** Says per event whether it is selected; stateful only for `limit`. */
export class Selector {
  selected = 0;
  private readonly typeRegex: RegExp | null;

  constructor(private readonly selection: Selection) {
    const types = selection.types;
    this.typeRegex = types ? new RegExp(`^(?:${types.map(globToRegex).join('|')})$`) : null;
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

function parseTime(option: string, text: string): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim()) || Number.isNaN(ms)) {
    throw usage(option, `${option} must be an ISO time like 2021-03-01 or 2021-03-01T12:00:00Z, got '${text}'`);
  }
  return ms * 1000;
}

function usage(option: string, message: string): SeedlineError {
  return new SeedlineError('USAGE', message, { option, hint: 'see seeder/RATES.md for the selection options' });
}
