import { formatCount, formatDuration } from '../common/progress.ts';
import type { RejectCounts } from './rejects.ts';

/** The human summary `seedline transform` prints at the end. Pure, so tests can read it. */
export interface SummaryInput {
  readonly out?: string;
  readonly parts?: number;
  readonly events: number;
  readonly eventsByType: Record<string, number>;
  readonly rejects: number;
  readonly rejectsByModule: RejectCounts;
  readonly rejectsDir?: string | null;
  readonly skippedModules?: readonly { readonly module: string; readonly missingTables: readonly string[] }[];
  /** Modules of the existing data set kept as they were (--module on a complete data set). */
  readonly keptModules?: readonly string[];
  readonly elapsedMs: number;
}

export function formatSummary(r: SummaryInput): string {
  const lines: string[] = [];
  const where = r.out !== undefined ? ` → ${r.out}/ (${r.parts ?? 0} part${r.parts === 1 ? '' : 's'})` : '';
  lines.push(`${formatCount(r.events)} event${r.events === 1 ? '' : 's'}${where} in ${formatDuration(r.elapsedMs / 1000)}`);
  lines.push(...table(Object.entries(r.eventsByType).map(([type, n]) => [type, formatCount(n)])));
  if (r.rejects === 0) {
    lines.push('no rows rejected');
  } else {
    const where = r.rejectsDir ? ` → ${r.rejectsDir}/` : '';
    lines.push(`${formatCount(r.rejects)} rejected${where} (module, reason, rows)`);
    const rows: string[][] = [];
    for (const [module, reasons] of Object.entries(r.rejectsByModule)) {
      for (const [reason, n] of Object.entries(reasons)) rows.push([module, reason, formatCount(n)]);
    }
    lines.push(...table(rows));
  }
  if (r.keptModules && r.keptModules.length > 0) {
    lines.push(`kept as they were: ${r.keptModules.join(', ')} (only the modules run were rewritten)`);
  }
  for (const { module, missingTables } of r.skippedModules ?? []) {
    lines.push(`skipped module ${module}: the dump has no ${missingTables.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Indented columns; the last column (a count) right-aligned. */
function table(rows: readonly string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map(
    (r) => `  ${r.map((cell, c) => (c === r.length - 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ')}`,
  );
}
