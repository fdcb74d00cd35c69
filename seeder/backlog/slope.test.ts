import { describe, expect, it } from 'vitest';
import { spreadOf, theilSen } from './slope.ts';

describe('theilSen', () => {
  it('finds the slope of a straight line exactly, with no spread', () => {
    const s = theilSen(Array.from({ length: 10 }, (_, i) => ({ t: i, v: 5 + 12 * i })));
    expect(s.slope).toBeCloseTo(12);
    expect(spreadOf(s)).toBeCloseTo(0);
  });

  it('is not pulled by one outlier, where least squares would be', () => {
    const points = Array.from({ length: 11 }, (_, i) => ({ t: i, v: 3 * i }));
    points[10] = { t: 10, v: 1000 };
    expect(theilSen(points).slope).toBeCloseTo(3, 0);
  });

  it('says 0 for a flat backlog and for fewer than two points', () => {
    expect(theilSen([{ t: 0, v: 7 }, { t: 1, v: 7 }, { t: 2, v: 7 }]).slope).toBe(0);
    expect(theilSen([{ t: 0, v: 7 }])).toEqual({ slope: 0, low: 0, high: 0, n: 1 });
  });

  it('widens the spread when the samples are noisy', () => {
    const noisy = Array.from({ length: 20 }, (_, i) => ({ t: i, v: 10 * i + (i % 2 ? 15 : -15) }));
    const s = theilSen(noisy);
    expect(s.slope).toBeGreaterThan(7);
    expect(s.slope).toBeLessThan(13);
    expect(spreadOf(s)).toBeGreaterThan(1);
  });

  it('thins long series so the pairs stay bounded', () => {
    const s = theilSen(Array.from({ length: 5000 }, (_, i) => ({ t: i / 10, v: i })));
    expect(s.n).toBe(120);
    expect(s.slope).toBeCloseTo(10, 1);
  });
});
