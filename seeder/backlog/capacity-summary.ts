import { formatCount } from '../../common/progress.ts';
import type { CapacityResult } from './capacity.ts';
import { formatRate, signed } from '../report/format-rate.ts';

/** The answer first, then one line per step. */
export function formatCapacity(r: CapacityResult): string {
  const lines = [`capacity ${r.interrupted ? 'search interrupted' : 'search finished'}: ${r.events} → exchange '${r.exchange}', each rate held ${r.holdSeconds}s`];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(14)}${value}`);
  row('sustained', r.sustained === null ? 'none of the rates tried (lower --from)' : `${formatCount(r.sustained)} events/s`);
  if (r.firstBad !== null) row('falls behind', `at ${formatCount(r.firstBad)} events/s`);
  if (r.saturating) {
    const consumed = r.saturating.consumedRate === undefined ? 'its consumption rate needs the management API' : `consuming ${formatRate(r.saturating.consumedRate)}/s there`;
    row('saturates', `${r.saturating.queue} first: backlog ${signed(r.saturating.growth)}/s ±${formatRate(r.saturating.spread)}, ${consumed}`);
  }
  if (r.publisherLimit !== null) row('limit', `the publisher reached only ${formatCount(r.publisherLimit)} events/s while no queue fell behind: the broker or seedline is the limit, not the backend`);
  else if (r.firstBad === null && r.sustained !== null) row('limit', 'none found: the backend kept up with every rate up to --to');
  row('watch', r.source);
  lines.push('  steps:');
  for (const s of r.steps) {
    const verdict = s.verdict === 'keeps-up' ? 'keeps up' : s.verdict === 'falls-behind' ? 'FALLS BEHIND' : 'not reached';
    const worst = s.worst ? `${s.worst.queue} ${signed(s.worst.growth)}/s ±${formatRate(s.worst.spread)}` : '-';
    lines.push(`    ${`${formatCount(s.rate)}/s`.padStart(10)}  ${verdict.padEnd(12)}  achieved ${`${formatCount(s.achieved)}/s`.padStart(8)}  worst ${worst} (limit ${formatRate(s.limit)}/s)${s.drained ? '' : '  [did not drain]'}`);
  }
  return lines.join('\n');
}
