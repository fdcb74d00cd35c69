import type { LegacyRow } from '../legacy-rows.ts';

/**
 * A lookup: a compact index over one legacy table (typed arrays keyed by id, see id-column.ts)
 * that modules consult for rows of OTHER tables (a message's sender: does it exist, was it
 * deleted?). Lookups are built in a first pass over their table, before any module runs, and
 * their bytes are taken from the transform's memory budget.
 */
export interface Lookup {
  /** Bytes held, for the memory budget. */
  readonly bytes: number;
}

/** Every lookup's name: here, not as `keyof Lookups` (index.ts), so that this contract does not import the lookups it describes. */
export const LOOKUP_NAMES = ['members', 'photos'] as const;
export type LookupName = (typeof LOOKUP_NAMES)[number];

export interface LookupBuilder<L extends Lookup> {
  add(row: LegacyRow): void;
  finish(): L;
}

export interface LookupDefinition<L extends Lookup> {
  readonly name: LookupName;
  readonly description: string;
  /** The legacy table read (whole, even under --limit: a partial index would invent dangling references). */
  readonly table: string;
  /** The columns of `table` it uses (checked against the dump's schema; the only ones decoded). */
  readonly columns: readonly string[];
  /** Lookups this one is built with (built first). */
  readonly needs: readonly LookupName[];
  /** `needs`: the lookups named in `needs`, built (index.ts's Lookups gives each one's type). */
  create(needs: Partial<Record<LookupName, Lookup>>): LookupBuilder<L>;
}

export function defineLookup<L extends Lookup>(definition: LookupDefinition<L>): LookupDefinition<L> {
  return definition;
}
