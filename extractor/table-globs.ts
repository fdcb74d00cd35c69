import { SeedlineError } from '../common/errors.ts';
import type { TableRef } from './source.ts';

/**
 * Table names with `*` or `?` (`dbo.*`, `*.Order*`): every table and view whose `schema.name`
 * matches, as `describeTable` matches names (case-insensitively). A bare pattern (`Member*`)
 * matches the name in any schema. Partitions are left out, with a note: the partitioned table
 * they belong to holds their rows (and is one stream); naming a partition itself still reads it.
 */
export function isTableGlob(name: string): boolean {
  return /[*?]/.test(name);
}

export interface ExpandedTables<T> {
  /** Matches in catalog order, each once (a name given twice, or by two patterns, is read once). */
  readonly items: T[];
  /** What was left out and why, for the summary. */
  readonly notes: string[];
}

/**
 * Replaces each pattern in `items` by a copy of it per matching table (`withName` makes the
 * copy); plain names pass through. A pattern that matches nothing is an error naming it.
 */
export function expandTableGlobs<T>(items: readonly T[], nameOf: (item: T) => string, withName: (item: T, name: string) => T, all: readonly TableRef[]): ExpandedTables<T> {
  const out: T[] = [];
  const seen = new Set<string>();
  const notes: string[] = [];
  const add = (item: T, name: string) => {
    if (seen.has(name.toLowerCase())) return;
    seen.add(name.toLowerCase());
    out.push(item);
  };
  for (const item of items) {
    const pattern = nameOf(item);
    if (!isTableGlob(pattern)) {
      add(item, pattern);
      continue;
    }
    const re = globRegExp(pattern);
    const matches = all.filter((t) => re.test(pattern.includes('.') ? `${t.schema}.${t.name}` : t.name));
    const partitions = matches.filter((t) => t.partitionOf !== undefined);
    for (const t of matches) if (t.partitionOf === undefined) add(withName(item, `${t.schema}.${t.name}`), `${t.schema}.${t.name}`);
    if (partitions.length) {
      const parents = [...new Set(partitions.map((p) => p.partitionOf!))];
      notes.push(`${pattern}: ${partitions.length} partition${partitions.length === 1 ? '' : 's'} left out (${partitions.map((p) => `${p.schema}.${p.name}`).join(', ')}): their rows are read with ${parents.join(', ')}`);
    }
    if (matches.length === 0) {
      throw new SeedlineError('TABLE_NOT_FOUND', `no table matches ${pattern}`, {
        table: pattern,
        hint: `the database has ${all.length} tables and views; patterns are schema.name with * and ? (quote them for the shell: '${pattern}')`,
      });
    }
  }
  // A partition named next to its partitioned table would put its rows in the dump twice.
  const named = (t: TableRef) => seen.has(`${t.schema}.${t.name}`.toLowerCase()) || seen.has(t.name.toLowerCase());
  const twice = all.find((t) => t.partitionOf !== undefined && named(t) && seen.has(t.partitionOf.toLowerCase()));
  if (twice) {
    throw new SeedlineError('USAGE', `${twice.schema}.${twice.name} is a partition of ${twice.partitionOf}, which is extracted too: its rows would be in the dump twice`, {
      table: `${twice.schema}.${twice.name}`,
      hint: `name either the partitioned table ${twice.partitionOf} (all its partitions) or the partition, not both`,
    });
  }
  return { items: out, notes };
}

function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'is');
}
