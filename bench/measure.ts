/**
 * What every benchmark shares: the contract bench/run.ts calls, timing of alternating runs,
 * peak-RSS sampling and running the CLI in a child process of its own. A benchmark is one file
 * exporting a `Benchmark`; list it in run.ts.
 */

import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface BenchContext {
  /** Timed runs per variant (at least 3); variants alternate so drift hits both alike. */
  readonly rounds: number;
  /** Scale the workload down (~10x) for a smoke run; figures are then not comparable. */
  readonly quick: boolean;
  /** Progress lines, on stderr. */
  readonly log: (line: string) => void;
}

export interface BenchResult {
  /** Lines for the report, already formatted. */
  readonly lines: readonly string[];
  /** Checks that failed (wrong record count, ratio under a floor, ...): non-empty fails the run. */
  readonly problems: readonly string[];
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export interface RunStats {
  readonly name: string;
  /** Units (records, events, ...) per second of each run, in run order. */
  readonly rates: number[];
  /**
   * Process CPU seconds (all threads, gunzip's included) of each run. On a busy machine
   * this moves less than wall time, so it is the fairer cost comparison there.
   */
  readonly cpuSeconds: number[];
  /** Highest RSS seen while this variant ran, in bytes. */
  peakRss: number;
}

export function best(stats: RunStats): number {
  return Math.max(...stats.rates);
}

export function median(stats: RunStats): number {
  return medianOf(stats.rates);
}

export function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs each variant `rounds` times, alternating and reversing the order every round
 * (A B, B A, A B, ...) so neither variant always runs on a warmer cache. Each variant
 * returns how many units it processed; `expectUnits` guards against a variant that
 * silently does less work.
 */
export async function alternate(
  variants: readonly { readonly name: string; readonly run: () => Promise<number> }[],
  rounds: number,
  expectUnits: number,
  log: (line: string) => void,
): Promise<RunStats[]> {
  const stats: RunStats[] = variants.map((v) => ({ name: v.name, rates: [], cpuSeconds: [], peakRss: 0 }));
  // One untimed run each first, so neither pays alone for JIT compilation and a cold page cache.
  for (const variant of variants) {
    const units = await variant.run();
    log(`  warm-up    ${variant.name.padEnd(10)} ${units} units`);
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => variants.length - 1 - i);
    for (const i of order) {
      const variant = variants[i]!;
      const sampler = new RssSampler();
      const cpuBefore = process.cpuUsage();
      const started = process.hrtime.bigint();
      let units: number;
      try {
        units = await variant.run();
      } finally {
        sampler.stop();
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      if (units !== expectUnits) throw new Error(`${variant.name} processed ${units} units, expected ${expectUnits}`);
      const rate = units / seconds;
      stats[i]!.rates.push(rate);
      stats[i]!.cpuSeconds.push(cpuSeconds);
      stats[i]!.peakRss = Math.max(stats[i]!.peakRss, sampler.peak);
      log(`  round ${round + 1}/${rounds}  ${variant.name.padEnd(10)} ${formatRate(rate)}/s  (${seconds.toFixed(2)} s, CPU ${cpuSeconds.toFixed(2)} s)`);
    }
  }
  return stats;
}

/** Samples RSS every 25 ms; the readers await between batches, so the timer gets to run. */
export class RssSampler {
  peak = process.memoryUsage.rss();
  private readonly timer = setInterval(() => this.sample(), 25);

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage.rss());
  }
}

export function formatRate(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(10);
}

export function formatMB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const CLI = new URL('../bin/seedline.js', import.meta.url);
/**
 * Loaded into the CLI's process: writes its peak RSS (bytes) and CPU seconds to
 * $SEEDLINE_BENCH_USAGE_FILE on exit. Peak RSS is /proc/self/status's VmHWM: Linux carries
 * getrusage's maxrss across exec, so a child spawned by a 300 MB bench process reported
 * 300 MB of its own (seen: the seed CLI "323 MB" twice while it peaks at ~150).
 */
const USAGE_HOOK = `data:text/javascript,${encodeURIComponent(
  'import{readFileSync,writeFileSync}from"node:fs";process.on("exit",()=>{const u=process.resourceUsage();let rss=u.maxRSS*1024;' +
    'try{const m=/VmHWM:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status","utf8"));if(m)rss=Number(m[1])*1024}catch{}' +
    'writeFileSync(process.env.SEEDLINE_BENCH_USAGE_FILE,JSON.stringify({maxRss:rss,cpuSeconds:(u.userCPUTime+u.systemCPUTime)/1e6}))});',
)}`;

export interface CliRun {
  /** The CLI process's own peak RSS (its worker threads included; VmHWM on Linux), bytes. */
  readonly maxRss: number;
  readonly seconds: number;
  /** CPU seconds of the CLI process, all threads. */
  readonly cpuSeconds: number;
}

/**
 * Runs `node bin/seedline.js ...args` once in a child process of its own, as a user would: what
 * a memory limit of an issue is about (the bench process holds the baseline's heap too).
 * `usageFile` is a scratch path for the child's figures; `exitCodes` are the ones that mean it worked.
 */
export async function runCli(args: readonly string[], usageFile: string, exitCodes: readonly number[] = [0]): Promise<CliRun> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', USAGE_HOOK, fileURLToPath(CLI), ...args], {
      env: { ...process.env, SEEDLINE_BENCH_USAGE_FILE: usageFile },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => (code !== null && exitCodes.includes(code) ? resolve() : reject(new Error(`seedline ${args[0]} exited with ${code}`))));
  });
  const seconds = (performance.now() - started) / 1000;
  const usage = JSON.parse(await readFile(usageFile, 'utf8')) as { maxRss: number; cpuSeconds: number };
  await rm(usageFile, { force: true });
  return { ...usage, seconds };
}
