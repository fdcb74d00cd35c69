import { formatCount } from '../common/progress.ts';
import { STAGES, isClosed, type Balance } from './balance.ts';
import type { LedgerResult } from './ledger.ts';

const STAGE_TITLES: Record<string, string> = {
  extract: 'extract: rows at the snapshot = rows in the dump',
  transform: 'transform: rows extracted = became events + rejected + dropped + not read',
  events: 'events: events the transform counted = events in the data set',
  seed: 'seed: events in the data set = routed + unroutable + not selected',
  tap: 'tap: events expected = arrived + unroutable + missing',
};

/** The ledger as text: one line per balance under its stage, then what is unaccounted for, then the verdict. */
export function formatLedger(r: LedgerResult): string {
  const lines: string[] = [];
  for (const stage of STAGES) {
    const balances = r.balances.filter((b) => b.stage === stage);
    if (balances.length === 0) continue;
    lines.push(STAGE_TITLES[stage]!);
    const width = Math.max(...balances.map((b) => b.subject.length));
    for (const b of balances) {
      lines.push(`  ${isClosed(b) ? '✓' : '✗'} ${b.subject.padEnd(width)}  ${formatBalance(b)}`);
      for (const note of b.notes ?? []) lines.push(`    ${' '.repeat(width)}  (${note})`);
    }
    lines.push('');
  }
  if (r.unaccounted.length > 0) {
    lines.push('unaccounted for:');
    for (const u of r.unaccounted) lines.push(`  ${u.stage} ${u.subject}: ${formatCount(u.count)} ${u.label}`);
    lines.push('');
  }
  lines.push(verdictLine(r));
  return `${lines.join('\n')}\n`;
}

export function formatBalance(b: Balance): string {
  const terms = b.terms.map((t) => `${t.kind === 'unaccounted' ? '✗ ' : ''}${formatCount(t.count)} ${t.label}`);
  return `${formatCount(b.total.count)} ${b.total.label} = ${terms.join(' + ') || '0'}`;
}

/** One line: did everything make it across, and if not, how much is unaccounted for. */
export function verdictLine(r: LedgerResult): string {
  const t = r.totals;
  const flow = [
    `${formatCount(t.rowsExtracted)} rows extracted`,
    `${formatCount(t.rowsToEvents)} became events (${formatCount(t.rowsRejected)} rejected, ${formatCount(t.rowsDropped)} dropped)`,
    `${formatCount(t.events)} events`,
    ...(t.routed !== undefined ? [`${formatCount(t.routed)} routed (${formatCount(t.unroutable ?? 0)} unroutable, ${formatCount(t.notSelected ?? 0)} not selected)`] : []),
    ...(t.arrived !== undefined ? [`${formatCount(t.arrived)} arrived at tap`] : []),
  ].join(' → ');
  if (r.balanced) return `ledger: balanced — ${flow}; nothing unaccounted for`;
  const first = r.unaccounted[0];
  const n = r.unaccounted.length;
  return `ledger: NOT balanced — ${n} item${n === 1 ? '' : 's'} unaccounted for${first ? ` (${first.stage} ${first.subject}: ${formatCount(first.count)} ${first.label}${n > 1 ? ', …' : ''})` : ''}; ${flow}`;
}
