/**
 * Start-up: what every command pays before it does anything, against a bare `node -e 0` start
 * in the same run (the floor no Node.js program goes below). Measured through bin/seedline.js,
 * as a user runs it: `--version`, `--help`, and the daily loop's quick look at a module's events
 * (`transform --module chat --limit 1000 --format json | head`) on the small fixture's dump.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { extract } from '../extractor/extract.ts';
import { FIXTURE_TIMEZONE } from '../fixtures/clock.ts';
import { createFixture } from '../fixtures/create-fixture.ts';
import { ensureDatabase } from '../fixtures/pg-target.ts';
import { FIXTURE_SCHEMA, FIXTURE_TABLES } from '../fixtures/tables.ts';
import { medianOf, runCli, type BenchContext, type BenchResult, type Benchmark } from './measure.ts';

const SERVER = process.env.SEEDLINE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const CLI = fileURLToPath(new URL('../bin/seedline.js', import.meta.url));
/** The issue's targets: --version and --help within 3x a bare start; the module preview under 1 s. */
const MAX_START_RATIO = 3;
const MAX_PREVIEW_SECONDS = 1;

export const startupBench: Benchmark = {
  name: 'startup',
  description: "seedline --version / --help / a module's first 1,000 rows vs node -e 0",
  async run(ctx: BenchContext): Promise<BenchResult> {
    const rounds = Math.max(ctx.rounds, ctx.quick ? 5 : 15);
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-startup-'));
    const database = `${SERVER}/seedline_bench_startup_${randomBytes(4).toString('hex')}`;
    try {
      ctx.log('  loading the small fixture and extracting it (not timed)');
      await ensureDatabase(database);
      await createFixture({ url: database, preset: ctx.quick ? 'tiny' : 'small', progress: 'off' });
      const dump = join(dir, 'dump');
      await extract({
        source: database,
        tables: FIXTURE_TABLES.map((t) => `${FIXTURE_SCHEMA}.${t.name}`),
        out: dump,
        sourceTimezone: FIXTURE_TIMEZONE,
        progress: 'off',
      });
      await timed('node', ['-e', '0']); // the build and the page cache, warm for every variant
      await timed(CLI, ['--version']);

      const variants = [
        { name: 'node -e 0', command: 'node', args: ['-e', '0'] },
        { name: 'seedline --version', command: CLI, args: ['--version'] },
        { name: 'seedline --help', command: CLI, args: ['--help'] },
        { name: 'transform --module chat --limit 1000 --format json | head', command: CLI, args: ['transform', '--dump', dump, '--module', 'chat', '--limit', '1000', '--format', 'json', '--progress', 'off'], head: true },
      ];
      const seconds = variants.map(() => [] as number[]);
      for (let round = 0; round < rounds; round++) {
        for (const [i, v] of variants.entries()) seconds[i]!.push(await timed(v.command, v.args, v.head));
      }
      const medians = seconds.map((s) => medianOf(s));
      const bare = medians[0]!;
      const lines = variants.map((v, i) => {
        const ratio = i === 0 ? '' : `  ${(medians[i]! / bare).toFixed(2)}x node -e 0`;
        return `${v.name.padEnd(58)} median ${medians[i]!.toFixed(3)} s (min ${Math.min(...seconds[i]!).toFixed(3)})${ratio}`;
      });
      const problems: string[] = [];
      for (const i of [1, 2]) {
        if (medians[i]! / bare > MAX_START_RATIO) problems.push(`${variants[i]!.name}: ${(medians[i]! / bare).toFixed(2)}x node -e 0 (target ≤ ${MAX_START_RATIO}x)`);
      }
      // Wall time on a shared machine waits for other processes; CPU time says what a quiet one would take.
      const cpu: number[] = [];
      for (let i = 0; i < 3; i++) cpu.push((await runCli(variants[3]!.args, join(dir, 'usage.json'), [0, 3])).cpuSeconds);
      lines.push(`  the module preview's own CPU time: median ${medianOf(cpu).toFixed(3)} s (all threads)`);
      if (medians[3]! > MAX_PREVIEW_SECONDS) lines.push(`  the module preview took ${medians[3]!.toFixed(2)} s (target < ${MAX_PREVIEW_SECONDS} s on a quiet machine)`);
      return { lines, problems };
    } finally {
      await rm(dir, { recursive: true, force: true });
      await dropDatabase(database);
    }
  },
};

/** Wall seconds of one run; with `head`, stdout is read up to its tenth line and then closed. */
function timed(command: string, args: readonly string[], head = false): Promise<number> {
  const started = performance.now();
  const argv = command === 'node' ? args : [command, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'ignore'] });
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      if (!head) return;
      for (const byte of chunk) if (byte === 10) lines++;
      if (lines >= 10) child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 && code !== 3) reject(new Error(`${args.join(' ')} exited with ${code}`));
      else resolve((performance.now() - started) / 1000);
    });
  });
}

async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
