import { describe, expect, it } from 'vitest';
import { ChunkSizer } from './chunk-sizer.ts';
import { RowRateLimit } from './rate-limit.ts';

describe('ChunkSizer (statements of 1-2 s)', () => {
  it('at most doubles after a fast statement, up to the maximum', () => {
    const s = new ChunkSizer({ startRows: 1000, maxRows: 5000 });
    s.observe(1000, 1000, 10);
    expect(s.rows).toBe(2000);
    s.observe(2000, 2000, 1200); // within 1-2 s: keep
    expect(s.rows).toBe(2000);
    for (let i = 0; i < 5; i++) s.observe(s.rows, s.rows, 5);
    expect(s.rows).toBe(5000);
  });

  it('shrinks in proportion after a slow statement, down to the minimum', () => {
    const s = new ChunkSizer({ startRows: 10_000, minRows: 100 });
    s.observe(10_000, 10_000, 6_000);
    expect(s.rows).toBe(2_500); // 10,000 × 1.5 s / 6 s
    s.observe(2_500, 2_500, 600_000);
    expect(s.rows).toBe(100);
  });

  it('learns nothing from a short last page', () => {
    const s = new ChunkSizer({ startRows: 1000 });
    s.observe(1000, 3, 1);
    expect(s.rows).toBe(1000);
  });
});

describe('RowRateLimit', () => {
  it('lets one second of rows through, then asks to wait for the debt', () => {
    let now = 0;
    const limit = new RowRateLimit(1000, () => now);
    expect(limit.access(1000)).toBe(0);
    expect(limit.access(500)).toBe(500);
    now = 1500; // 1.5 s later: 1,500 tokens back, minus the 500 owed, capped at one second's worth
    expect(limit.access(1000)).toBe(0);
    expect(limit.access(200)).toBeCloseTo(200);
  });

  it('holds a real reader to the rate', async () => {
    const limit = new RowRateLimit(2000);
    const started = performance.now();
    for (let i = 0; i < 10; i++) await limit.take(500); // 5,000 rows: 1 s of burst, then 1.5 s
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

describe('ChunkSizer byte bound', () => {
  it('keeps pages of wide rows under maxPageBytes however fast the server is', () => {
    const sizer = new ChunkSizer({ startRows: 1_000, maxRows: 20_000, maxPageBytes: 1_000_000 });
    for (let i = 0; i < 10; i++) sizer.observe(sizer.rows, sizer.rows, 10); // a very fast server
    expect(sizer.rows).toBe(20_000);
    sizer.observeBytes(1_000, 1_000 * 500); // 500-byte rows: 2,000 rows fit in 1 MB
    expect(sizer.rows).toBe(2_000);
    sizer.observe(sizer.rows, sizer.rows, 10);
    expect(sizer.rows).toBeLessThanOrEqual(2_000);
  });

  it('takes a new byte bound (record-byte pages) from the next observation on', () => {
    const sizer = new ChunkSizer({ startRows: 1_000, maxRows: 20_000, maxPageBytes: 1_000_000 });
    sizer.observeBytes(1_000, 1_000 * 500);
    for (let i = 0; i < 10; i++) sizer.observe(sizer.rows, sizer.rows, 10);
    expect(sizer.rows).toBe(2_000);
    sizer.setMaxPageBytes(4_000_000);
    for (let i = 0; i < 10; i++) sizer.observe(sizer.rows, sizer.rows, 10);
    expect(sizer.rows).toBe(8_000);
  });
});
