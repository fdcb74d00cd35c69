import { readFile } from 'node:fs/promises';
import { SeedlineError, messageOf } from '../common/errors.ts';
import { formatCount } from '../common/progress.ts';
import { TAP_VERDICT_FORMAT, type TapVerdict } from '../seeder/tap/tap.ts';
import { balance, loss, ok, type Balance, type Term } from './balance.ts';

/**
 * Per event type, what `tap --json` saw: events tap expected = arrived + returned unroutable
 * by the seed (they never reached a queue) + missing. Duplicates are noted, not balanced:
 * delivery is at least once and consumers de-duplicate by id.
 */
export function tapBalances(verdict: TapVerdict, returned: Readonly<Record<string, number>> = {}): Balance[] {
  const out: Balance[] = [];
  for (const [type, t] of Object.entries(verdict.byType)) {
    const missing = t.expected - t.arrived;
    const unroutable = Math.min(missing, returned[type] ?? 0);
    const terms: Term[] = [ok('arrived', t.arrived), loss('returned unroutable by the seed', unroutable)];
    const notes = t.duplicates > 0 ? [`${formatCount(t.duplicates)} delivered more than once (consumers de-duplicate by id)`] : [];
    out.push(balance('tap', type, { label: 'events tap expected', count: t.expected }, terms, { missingLabel: 'missing: confirmed by the broker, never seen by tap', notes }));
  }
  if (verdict.unexpected > 0 || verdict.outOfOrder > 0) {
    out.push(
      balance('tap', 'order and strangers', { label: 'events out of order per key', count: verdict.outOfOrder }, [], {
        missingLabel: 'out of order per key',
        notes: verdict.unexpected > 0 ? [`${formatCount(verdict.unexpected)} messages not of this data set (or outside the selection)`] : [],
      }),
    );
  }
  return out;
}

export async function readTapVerdict(file: string): Promise<TapVerdict> {
  const hint = 'pass the file that seedline tap --json wrote';
  let data: (Partial<TapVerdict> & { format?: unknown }) | null;
  try {
    data = JSON.parse(await readFile(file, 'utf8')) as typeof data;
  } catch (err) {
    throw new SeedlineError('CONFIG_INVALID', `cannot read the tap verdict ${file}: ${messageOf(err)}`, { file, option: '--tap', hint });
  }
  if (data?.format !== TAP_VERDICT_FORMAT || typeof data.byType !== 'object' || data.byType === null) {
    throw new SeedlineError('CONFIG_INVALID', `${file} is not a seedline tap verdict (expected format ${TAP_VERDICT_FORMAT} with byType)`, { file, option: '--tap', hint });
  }
  return data as TapVerdict;
}
