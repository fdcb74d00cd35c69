/**
 * Incremental transform: re-running one module on a complete events data set
 * (`transform --module chat` rewrites only `events.chat`) against a transform of every module,
 * in the same run, into the same data set. The target: one module ≤ 30% of a full
 * transform's wall time.
 *
 * The dump holds every fixture table (bench/extracted-dump.ts: fixture create + extract, cached),
 * so every module runs: chat is about half of finland's events, the other modules 0.2-25%
 * each. Ratios are medians of per-round time ratios.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SEED } from '../fixtures/presets.ts';
import { MODULES } from '../transformer/modules/index.ts';
import { transform } from '../transformer/transform.ts';
import { alternate, medianOf, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';
import { cachedExtractedDump } from './extracted-dump.ts';

/** The target: one module's re-run at most this share of a full transform's wall time. */
const TARGET_SHARE = 0.3;

export const transformModuleBench: Benchmark = {
  name: 'transform-module',
  description: 'transform --module <one> on a complete events data set vs a transform of every module',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const preset = process.env['SEEDLINE_BENCH_PRESET'] ?? (ctx.quick ? 'small' : 'finland');
    const dump = await cachedExtractedDump(preset, DEFAULT_SEED, ctx.log);
    const modules = MODULES.map((m) => m.name);
    const work = await mkdtemp(join(tmpdir(), 'seedline-bench-transform-module-'));
    const out = join(work, 'events');
    const events: Record<string, number> = {};
    try {
      // Every variant writes into the same data set and leaves it complete: --module tops it up, no --overwrite.
      const variant = (name: string, only?: string) => ({
        name,
        run: async () => {
          const result = await transform({ dump, out, ...(only ? { modules: [only] } : {}), progress: 'off' });
          if (only && result.keptModules.length !== modules.length - 1) throw new Error(`--module ${only} did not keep the other modules (kept ${result.keptModules.join(', ')})`);
          events[name] = result.events;
          return 1;
        },
      });
      await transform({ dump, out, progress: 'off' });
      const [full, ...single] = await alternate([variant('all'), ...modules.map((m) => variant(m, m))], ctx.rounds, 1, ctx.log);
      const seconds = (rate: number) => 1 / rate;
      const lines = [`  dump       ${preset} seed ${DEFAULT_SEED}, every fixture table; modules ${modules.join(', ')}`];
      lines.push(`  all        ${events['all']!.toLocaleString('en-US')} events   median ${medianOf(full!.rates.map(seconds)).toFixed(2)} s   CPU ${medianOf(full!.cpuSeconds).toFixed(1)} s`);
      const problems: string[] = [];
      for (const stats of single) {
        // Per round: this module's time ÷ the full transform's time in the same round.
        const share = medianOf(stats.rates.map((r, i) => full!.rates[i]! / r));
        // The same by CPU time: on a busy machine wall time moves more than the work does.
        const cpuShare = medianOf(stats.cpuSeconds.map((s, i) => s / full!.cpuSeconds[i]!));
        const eventShare = events[stats.name]! / events['all']!;
        lines.push(
          `  --module ${stats.name.padEnd(8)} ${events[stats.name]!.toLocaleString('en-US')} events (${(eventShare * 100).toFixed(0)}%)   ` +
            `median ${medianOf(stats.rates.map(seconds)).toFixed(2)} s   CPU ${medianOf(stats.cpuSeconds).toFixed(1)} s   ` +
            `share of a full transform: wall ${(share * 100).toFixed(0)}%, CPU ${(cpuShare * 100).toFixed(0)}% (target ≤ ${TARGET_SHARE * 100}% of wall)`,
        );
        // A module re-run cannot take less than its own share of the work: only one that does far less work than the whole is held to the target.
        if (!ctx.quick && eventShare < TARGET_SHARE / 2 && share > TARGET_SHARE) problems.push(`--module ${stats.name} takes ${(share * 100).toFixed(0)}% of a full transform, over the ${TARGET_SHARE * 100}% target`);
      }
      return { lines, problems };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};
