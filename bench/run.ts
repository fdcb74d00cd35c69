/**
 * `npm run bench [-- --only <name>] [--rounds N] [--quick]`: runs every benchmark, prints
 * its figures on stdout (progress on stderr) and exits non-zero when one fails or reports
 * a problem. To add a benchmark: write bench/<name>.ts exporting a `Benchmark`, list it below.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { clusterBench } from './cluster.ts';
import { formatMB, type Benchmark } from './measure.ts';
import { extractBench } from './extract.ts';
import { extractLargeValuesBench } from './extract-large-values.ts';
import { fixtureLoad } from './fixture-load.ts';
import { recordReader } from './record-reader.ts';
import { seedBench } from './seed.ts';
import { seedResumeBench } from './seed-resume.ts';
import { seedRateBench } from './seed-rate.ts';
import { seedWatchBench } from './seed-watch.ts';
import { startupBench } from './startup.ts';
import { traceBench } from './trace.ts';
import { transformBench } from './transform.ts';
import { transformMemoryBench } from './transform-memory.ts';
import { transformModuleBench } from './transform-module.ts';
import { transformScaleBench } from './transform-scale.ts';

const BENCHMARKS: readonly Benchmark[] = [startupBench, recordReader, extractBench, extractLargeValuesBench, transformBench, transformModuleBench, transformMemoryBench, transformScaleBench, seedBench, seedResumeBench, seedRateBench, seedWatchBench, clusterBench, fixtureLoad, traceBench];

const usage = `usage: npm run bench -- [--only <name>] [--rounds N] [--quick]
  --only <name>  run one benchmark (${BENCHMARKS.map((b) => b.name).join(', ')})
  --rounds N     timed runs per variant, at least 3 (default 3)
  --quick        a ~10x smaller workload, to check the benchmarks work; figures not comparable`;

async function main(): Promise<number> {
  let values: { only?: string; rounds?: string; quick?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        only: { type: 'string' },
        rounds: { type: 'string' },
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isInteger(rounds) || rounds < 3) {
    console.error(`--rounds must be an integer of at least 3, got ${values.rounds}\n${usage}`);
    return 2;
  }
  const selected = values.only ? BENCHMARKS.filter((b) => b.name === values.only) : BENCHMARKS;
  if (selected.length === 0) {
    console.error(`no benchmark named '${values.only}'\n${usage}`);
    return 2;
  }

  const cpu = cpus();
  console.log(`seedline benchmarks — ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${formatMB(totalmem())} RAM`);
  let failed = 0;
  for (const bench of selected) {
    console.log(`\n${bench.name}: ${bench.description}${values.quick ? ' (quick)' : ''}`);
    try {
      const result = await bench.run({ rounds, quick: Boolean(values.quick), log: (line) => console.error(line) });
      for (const line of result.lines) console.log(line);
      for (const problem of result.problems) console.log(`  FAILED: ${problem}`);
      if (result.problems.length > 0) failed++;
    } catch (err) {
      failed++;
      console.log(`  FAILED: ${(err as Error).stack ?? String(err)}`);
    }
  }
  console.log(`\n${selected.length - failed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
