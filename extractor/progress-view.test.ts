import { describe, expect, it } from 'vitest';
import { TableProgress } from './progress-view.ts';

describe('TableProgress', () => {
  it('shows rows of the estimate, MB, rows/s and ETA per table being read', () => {
    let now = 0;
    const view = new TableProgress([{ name: 'Messages', estimatedRows: 10_000, keptRows: 2_000 }, { name: 'Members', estimatedRows: 50 }, { name: 'Flirts', estimatedRows: 9 }], () => now);
    view.add('Messages', 0, 0);
    now = 2_000;
    view.add('Messages', 4_000, 3 * 1024 * 1024);
    view.add('Members', 50, 100);
    view.done('Members');
    expect(view.render()).toBe('Messages 6,000/~10,000 rows 3.0 MB 2,000 rows/s ETA 2.0s · 1/3 tables done');
  });

  it('never shows an estimate below the rows read', () => {
    let now = 0;
    const view = new TableProgress([{ name: 'T', estimatedRows: 10 }], () => now);
    view.add('T', 0, 0);
    now = 1000;
    view.add('T', 500, 10);
    expect(view.render()).toBe('T 500/~500 rows 10 B 500 rows/s ETA 0.0s');
  });
});
