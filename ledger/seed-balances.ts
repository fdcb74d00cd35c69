import { formatCount } from '../common/progress.ts';
import type { RunReport } from '../seeder/report/report.ts';
import { balance, loss, ok, unaccounted, type Balance, type Term } from './balance.ts';
import type { EventScan, NotSelectedReason } from './event-scan.ts';

const WHY: Record<NotSelectedReason, string> = {
  resumed: 'before the resumed position (confirmed by an earlier run)',
  '--limit': 'not selected: seed --limit',
  '--from/--until': 'not selected: seed --from/--until',
  '--types': 'not selected: seed --types',
  '--sample/--partition': 'not selected: seed --sample/--partition',
};

/**
 * The seed's balances from its run report. Per event type: events in the data set = routed to
 * a queue + returned unroutable + not selected (by flag). For the run: events selected =
 * confirmed by the broker; what was selected but never published or never confirmed is
 * unaccounted (the run stopped early: `seed --resume`).
 *
 * The run report counts returns per type but confirms only in total, so "routed" per type is
 * selected − returned; a run whose own balance does not close says so in its own line.
 */
export function seedBalances(report: Pick<RunReport, 'selection' | 'result'>, scan: EventScan, eventsInManifest: number): Balance[] {
  const result = report.result;
  const returned = result?.returned ?? {};
  const out: Balance[] = [];
  let selected = 0;
  let resumed = 0;
  for (const [type, t] of [...scan.byType].sort(([a], [b]) => (a < b ? -1 : 1))) {
    selected += t.selected;
    resumed += t.notSelected.resumed ?? 0;
    const back = returned[type] ?? 0;
    const terms: Term[] = [ok('routed to a queue', t.selected - back), loss('returned unroutable (no queue bound for the type)', back)];
    for (const [reason, n] of Object.entries(t.notSelected)) {
      const r = reason as NotSelectedReason;
      terms.push(r === 'resumed' ? ok(WHY[r], n) : loss(WHY[r], n));
    }
    out.push(balance('seed', type, { label: 'events in the data set', count: t.read }, terms));
  }
  const run = result ? `run ${result.runId}` : 'run';
  if (!result) {
    out.push(balance('seed', run, { label: 'events selected', count: selected }, [], { missingLabel: 'selected, never published: the run failed before publishing (see its error)' }));
    return out;
  }
  const terms: Term[] = [ok('confirmed by the broker', result.confirmed)];
  if (result.unconfirmed > 0) terms.push(unaccounted('published, never confirmed (seed --resume publishes them again)', result.unconfirmed));
  const notes = [
    `${formatCount(result.published)} published, ${formatCount(result.confirmed)} confirmed, ${formatCount(result.returnedTotal)} returned unroutable` +
      (result.nacked > 0 ? `, ${formatCount(result.nacked)} nacks` : '') +
      (result.republished > 0 ? `, at most ${formatCount(result.republished)} published twice after a reconnect` : ''),
  ];
  if (resumed > 0 && result.startPosition > 0) notes.push(`resumed from event ${formatCount(result.startPosition)}`);
  if (result.total !== eventsInManifest) {
    notes.push(`the run report counts ${formatCount(result.total)} events in ${result.events}, this data set ${formatCount(eventsInManifest)}: was it another data set?`);
  }
  out.push(
    balance('seed', run, { label: 'events selected', count: selected }, terms, {
      missingLabel: result.interrupted ? 'selected, never confirmed: the run was interrupted (seed --resume)' : 'selected, never confirmed (see the run summary)',
      extraLabel: 'confirmed more events than the selection holds (another data set or selection?)',
      notes,
    }),
  );
  return out;
}
