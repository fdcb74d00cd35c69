import { describe, expect, it } from 'vitest';
import { IO_RESERVE, WORKER_BYTES, memoryPlan } from './memory-plan.ts';

const MB = 1024 * 1024;

describe('memoryPlan: what a transform holds stays within --memory', () => {
  for (const budget of [48, 64, 256, 512, 2048]) {
    it(`${budget}MB: lookups, workers, the run, the merge and the output fit, in each phase`, () => {
      // (At the 48MB minimum, lookups of a tenth of it leave less than the smallest run: the floor wins.)
      for (const lookups of budget > 48 ? [0, 1 * MB, budget * MB * 0.1] : [0, 1 * MB]) {
        const M = budget * MB;
        const plan = memoryPlan(M, lookups, 2);
        // While the modules run: lookups, workers, one run's arena, the output reserve (spill blocks).
        expect(lookups + plan.workers * WORKER_BYTES + plan.runBytes + IO_RESERVE).toBeLessThanOrEqual(M);
        // While merging (the workers are gone): lookups, the last run's arena, read blocks, the output.
        expect(lookups + plan.runBytes + plan.mergeBytes + IO_RESERVE).toBeLessThanOrEqual(M);
        expect(plan.runBytes).toBeGreaterThanOrEqual(M / 8);
      }
    });
  }

  it('uses worker threads only when the budget pays for them; an explicit --workers wins', () => {
    expect(memoryPlan(64 * MB, 0, 2).workers).toBe(0);
    expect(memoryPlan(256 * MB, 0, 2).workers).toBe(1);
    expect(memoryPlan(512 * MB, 0, 2).workers).toBe(2);
    expect(memoryPlan(64 * MB, 0, 2, 3).workers).toBe(3);
  });
});
