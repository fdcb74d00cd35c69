/** "Did you mean …?" for table names and config keys. */

/** Edit distance (insert, delete, substitute), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[y.length]!;
}

/**
 * The candidates closest to `wanted`, best first: those within a third of its length in
 * edits, or containing it (`Member` → `dbo.Members`). At most `limit`.
 */
export function closest(wanted: string, candidates: readonly string[], limit = 3): string[] {
  const w = wanted.toLowerCase();
  const bare = (s: string) => s.slice(s.lastIndexOf('.') + 1).toLowerCase();
  const scored = candidates
    .map((c) => ({ c, d: Math.min(editDistance(wanted, c), editDistance(bare(wanted), bare(c))) }))
    .filter(({ c, d }) => d <= Math.max(2, Math.floor(w.length / 3)) || c.toLowerCase().includes(bare(wanted)))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  return scored.slice(0, limit).map(({ c }) => c);
}
