import { describe, expect, it } from 'vitest';
import type { RunReport } from './report.ts';
import { combineReports, formatCombined } from './report-combine.ts';
import type { SeedResult } from '../summary.ts';

/** A run report of partition i/n that got through `position` of `total` events. */
function run(index: number, count: number, confirmed: number, position = 900, extra: Partial<SeedResult> = {}): { file: string; report: RunReport } {
  const result = { total: 900, position, confirmed, unconfirmed: 0, interrupted: false, exchange: 'x', returnedTotal: 0, reconnects: 0, republished: 0, ...extra } as SeedResult;
  return { file: `p${index}.json`, report: { selection: { partition: { index, count } }, result } as unknown as RunReport };
}

describe('combineReports (seedline report p0.json p1.json ...)', () => {
  it('says the whole data set arrived when every partition confirmed through the end', () => {
    const view = combineReports([run(0, 3, 310), run(1, 3, 290, 900, { reconnects: 1, republished: 40 }), run(2, 3, 300)]);
    expect(view.problems).toEqual([]);
    expect(view.confirmed).toBe(900);
    expect(formatCombined(view)).toContain('the whole data set arrived: 900 events in 3 partitions, 900 confirmed');
    expect(formatCombined(view)).toContain('1 reconnects, at most 40 duplicates');
  });

  it('names a missing partition, an unfinished one, and a run of another split', () => {
    expect(combineReports([run(0, 3, 310), run(2, 3, 300)]).problems).toEqual(['partition 1/3 has no run report']);
    expect(combineReports([run(0, 2, 450), run(1, 2, 200, 512)]).problems[0]).toMatch(/partition 1\/2 did not finish \(p1.json: confirmed through event 512 of 900\)/);
    expect(combineReports([run(0, 2, 450), run(1, 3, 300)]).problems[0]).toMatch(/split the keys differently/);
  });

  it('a partition and its --resume together are complete when the last run is', () => {
    const view = combineReports([run(0, 2, 450), run(1, 2, 200, 512), { ...run(1, 2, 250), file: 'p1-resume.json' }]);
    expect(view.problems).toEqual([]);
    expect(view.views[1]).toMatchObject({ files: ['p1.json', 'p1-resume.json'], confirmed: 450, complete: true });
  });
});
