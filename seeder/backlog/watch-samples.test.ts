import { describe, expect, it } from 'vitest';
import { compactBefore } from './watch-report.ts';

describe('compactBefore (the backlog watch keeps bounded memory)', () => {
  it('halves the samples older than the window, keeping the deeper of each pair, and leaves the window alone', () => {
    const samples = Array.from({ length: 10 }, (_, i) => ({ t: i, ready: i === 3 ? 99 : i, consumers: 1 }));
    compactBefore(samples, 6);
    expect(samples.map((s) => s.t)).toEqual([1, 3, 5, 6, 7, 8, 9]);
    expect(samples[1]!.ready).toBe(99); // the peak survives
  });
});
