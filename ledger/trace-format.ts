import type { Trace } from './trace.ts';

/** A trace as text: the row, the modules, the events with their fate, the rejects. */
export function formatTrace(t: Trace): string {
  const lines: string[] = [];
  lines.push(`${t.table} ${t.pkJson}${t.eventId ? ` (the source of event ${t.eventId})` : ''}`);
  if (t.row) {
    lines.push(`  row        ${t.row.file}, record ${t.row.record} (as extracted; masked columns stay masked)`);
    for (const [column, value] of Object.entries(t.row.row)) lines.push(`    ${column.padEnd(20)} ${preview(value)}${asTime(column, value)}`);
  } else {
    lines.push('  row        not in the dump');
  }
  lines.push(`  read by    ${t.modules.length > 0 ? t.modules.join(', ') : 'no module'}`);
  lines.push(`  events     ${t.events.length}`);
  for (const e of t.events) {
    const fate = [e.seed ? `seed: ${e.seed}` : '', e.tap ? `tap: ${e.tap}` : ''].filter(Boolean).join(' · ');
    const mark = t.eventId === e.id ? '→ ' : '  ';
    lines.push(`  ${mark}  ${e.id}  ${e.type}  ${e.occurredAt}  key ${e.key}  (${e.file} #${e.position})${fate ? `  ${fate}` : ''}`);
  }
  lines.push(`  rejects    ${t.rejects.length}`);
  for (const r of t.rejects) {
    const dropped = r.dropped === undefined ? '' : r.dropped ? ' [row dropped: no event]' : ' [only a part left out]';
    lines.push(`    ${r.module}: ${r.reason}${r.detail ? ` — ${r.detail}` : ''}${dropped}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A timestamp column (µs since the epoch, UTC, as extract writes them) read as a time, beside the value. */
function asTime(column: string, value: unknown): string {
  if (!/(At|Date|Time)$/.test(column) || typeof value !== 'string' || !/^-?\d{13,17}$/.test(value)) return '';
  const us = Number(value);
  return `  (${new Date(Math.floor(us / 1000)).toISOString().slice(0, -1)}${String(us % 1000).padStart(3, '0')}Z)`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}
