/**
 * Transform memory: the real CLI (`node bin/seedline.js transform`, a child process of its own)
 * on the cached `finland` dump (bench/transform.ts) at --memory 64MB, 256MB and the default
 * 512MB, default workers; its peak RSS (VmHWM) against the promise of --memory + 150 MB, with the
 * time, events/s and how many sorted runs spilled. Fails when a peak is over the promise.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../common/exit-codes.ts';
import { DEFAULT_SEED } from '../fixtures/presets.ts';
import { eventCount, eventStreams, type Manifest } from '../recordfile/index.ts';
import { formatMB, formatRate, runCli, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';
import { cachedDump } from './transform.ts';

const MB = 1024 * 1024;
const SLACK = 150 * MB;
const BUDGETS_MB = [64, 256, 512];

export const transformMemoryBench: Benchmark = {
  name: 'transform-memory',
  description: 'the transform CLI at --memory 64MB, 256MB, 512MB: peak RSS against --memory + 150 MB',
  async run(ctx: BenchContext): Promise<BenchResult> {
    const dump = await cachedDump(process.env['SEEDLINE_BENCH_PRESET'] ?? (ctx.quick ? 'small' : 'finland'), DEFAULT_SEED, ctx.log);
    const work = await mkdtemp(join(tmpdir(), 'seedline-bench-tmem-'));
    const lines: string[] = [];
    const problems: string[] = [];
    try {
      for (const mb of BUDGETS_MB) {
        const out = join(work, `events-${mb}`);
        ctx.log(`--memory ${mb}MB ...`);
        const cli = await runCli(['transform', '--dump', dump, '--out', out, '--memory', `${mb}MB`, '--progress', 'off'], join(work, 'usage.json'), [0, EXIT.DONE_WITH_REJECTS]);
        const events = eventCount(eventStreams(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as Manifest, out));
        const limit = mb * MB + SLACK;
        lines.push(`  --memory ${String(mb).padStart(3)}MB  peak RSS ${formatMB(cli.maxRss)} (promise ${formatMB(limit)})  ${cli.seconds.toFixed(1)} s  ${formatRate(events / cli.seconds)} events/s  CPU ${cli.cpuSeconds.toFixed(1)} s`);
        if (cli.maxRss > limit) problems.push(`--memory ${mb}MB: peak RSS ${formatMB(cli.maxRss)} is over --memory + 150 MB (${formatMB(limit)})`);
        await rm(out, { recursive: true, force: true });
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return { lines, problems };
  },
};
