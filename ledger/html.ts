import { formatCount } from '../common/progress.ts';
import { esc } from '../seeder/report/report-svg.ts';
import { STAGES, isClosed } from './balance.ts';
import { flowSvg } from './flow-svg.ts';
import { verdictLine } from './format.ts';
import type { LedgerResult } from './ledger.ts';

const STAGE_NAMES: Record<string, string> = {
  extract: 'Extract — rows at the snapshot = rows in the dump',
  transform: 'Transform — rows extracted = became events + rejected + dropped + not read',
  events: 'Events data set — events counted = events in the parts',
  seed: 'Seed — events = routed + unroutable + not selected',
  tap: 'Tap — expected = arrived + unroutable + missing',
};

/** The ledger as one self-contained page: the verdict, the flow picture, what is unaccounted for, every balance. */
export function renderLedgerHtml(r: LedgerResult): string {
  const sections = STAGES.filter((s) => r.balances.some((b) => b.stage === s)).map((stage) => {
    const rows = r.balances
      .filter((b) => b.stage === stage)
      .map((b) => {
        const terms = b.terms.map((t) => `<li class="${t.kind}">${formatCount(t.count)} ${esc(t.label)}</li>`).join('');
        const notes = (b.notes ?? []).map((n) => `<div class="note">${esc(n)}</div>`).join('');
        return `<tr class="${isClosed(b) ? 'closed' : 'open'}"><td class="mark">${isClosed(b) ? '✓' : '✗'}</td><td>${esc(b.subject)}</td><td class="num">${formatCount(b.total.count)}</td><td>${esc(b.total.label)}</td><td><ul>${terms}</ul>${notes}</td></tr>`;
      })
      .join('\n');
    return `<section data-stage="${stage}"><h2>${esc(STAGE_NAMES[stage]!)}</h2><table><thead><tr><th></th><th>what</th><th class="num">total</th><th></th><th>= split into</th></tr></thead><tbody>${rows}</tbody></table></section>`;
  });
  const open =
    r.unaccounted.length === 0
      ? ''
      : `<section id="unaccounted"><h2>Unaccounted for</h2><ul>${r.unaccounted.map((u) => `<li>${esc(u.stage)} · ${esc(u.subject)}: <b>${formatCount(u.count)}</b> ${esc(u.label)}</li>`).join('')}</ul></section>`;
  const inputs = Object.entries(r.inputs).map(([k, v]) => `<div><span>${esc(k)}</span> ${esc(v)}</div>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>seedline ledger</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
#verdict{padding:12px 16px;border-radius:6px;font-weight:600}
#verdict.balanced{background:#e3f4e5;border:1px solid #3a9a4a}
#verdict.unbalanced{background:#fde7e7;border:1px solid #c62828}
.inputs{color:#555;font-size:12px;margin:8px 0 16px}.inputs span{display:inline-block;width:56px;color:#888}
svg text{font:11px system-ui,sans-serif;fill:#222}svg .heading{font-weight:600;fill:#555}
svg .band{opacity:.45}svg .band:hover{opacity:.8}
table{border-collapse:collapse;width:100%;margin-bottom:8px}td,th{text-align:left;padding:3px 8px;border-bottom:1px solid #eee;vertical-align:top}
.num{text-align:right;font-variant-numeric:tabular-nums}td ul{margin:0;padding-left:16px}
tr.open td.mark,li.unaccounted{color:#c62828;font-weight:600}tr.closed td.mark{color:#3a9a4a}li.loss{color:#8a5a00}
.note{color:#777;font-size:12px}#unaccounted{background:#fff6f6;padding:4px 16px;border-radius:6px}
</style></head><body>
<h1>seedline ledger</h1>
<div id="verdict" class="${r.balanced ? 'balanced' : 'unbalanced'}">${esc(verdictLine(r))}</div>
<div class="inputs">${inputs}</div>
${flowSvg(r.flow)}
${open}
${sections.join('\n')}
</body></html>
`;
}
