import type { ColumnInfo, ColumnValue } from './source.ts';

/**
 * Legacy text columns (UTF-16 nvarchar on SQL Server) can hold half an emoji: a lone
 * surrogate. protobufjs encodes it as the 3 bytes of a surrogate, which is not UTF-8, and
 * the record then fails to decode in every strict reader (protobuf-java, Go, Python).
 *
 * Decision: replace each lone surrogate with U+FFFD (what any UTF-8 encoder does) and
 * count the values changed per column; the counts go into the manifest
 * (`streams.<Table>.info.loneSurrogatesReplaced`) and the extract summary. Refusing would
 * stop a production extract for a character nobody can read anyway; the count keeps it visible.
 */
export type SurrogateCounts = Record<string, number>;

/** Repairs a row in place (string columns only); counts values changed into `counts`. */
export function loneSurrogateFixer(columns: readonly ColumnInfo[]): (row: ColumnValue[], counts: SurrogateCounts) => void {
  const text = columns.flatMap((c, i) => (c.kind === 'string' ? [{ i, name: c.name }] : []));
  return (row, counts) => {
    for (const { i, name } of text) {
      const v = row[i];
      if (typeof v === 'string' && !(v as unknown as WellFormed).isWellFormed()) {
        row[i] = (v as unknown as WellFormed).toWellFormed();
        counts[name] = (counts[name] ?? 0) + 1;
      }
    }
  };
}

/** ES2024 string methods (Node 20 has them; the repo's lib setting is ES2023). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** Adds `more` into `into`; returns `into`. */
export function addCounts(into: SurrogateCounts, more: SurrogateCounts): SurrogateCounts {
  for (const [k, n] of Object.entries(more)) into[k] = (into[k] ?? 0) + n;
  return into;
}
