import { describe, expect, it } from 'vitest';
import { Histogram, formatMicros } from './histogram.ts';

describe('Histogram', () => {
  it('reports percentiles within 2% of the exact value, over six orders of magnitude', () => {
    const h = new Histogram();
    const values: number[] = [];
    for (let i = 1; i <= 100_000; i++) values.push(Math.round(10 * 1.00013 ** i)); // 10 µs .. ~4 s
    values.forEach((v) => h.record(v));
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]!;
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.02);
    }
    expect(h.count).toBe(100_000);
    expect(h.min).toBe(values[0]);
    expect(h.max).toBe(values[values.length - 1]);
  });

  it('is exact for small values and empty-safe', () => {
    const h = new Histogram();
    expect(h.percentile(99)).toBe(0);
    [3, 3, 7, 40].forEach((v) => h.record(v));
    expect(h.percentile(50)).toBe(3);
    expect(h.percentile(100)).toBe(40);
    expect(h.mean).toBeCloseTo(13.25, 6);
  });

  it('adds another histogram and serialises its buckets', () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(100);
    b.record(1_000_000);
    b.record(1_000_000);
    a.add(b);
    const json = a.toJSON();
    expect(json.count).toBe(3);
    expect(json.buckets.reduce((n, [, c]) => n + c, 0)).toBe(3);
    expect(json.p99).toBeGreaterThan(980_000);
    expect(json.min).toBe(100);
  });

  it('formats microseconds for people', () => {
    expect(formatMicros(850)).toBe('850µs');
    expect(formatMicros(12_345)).toBe('12ms');
    expect(formatMicros(4_200_000)).toBe('4.2s');
  });
});
