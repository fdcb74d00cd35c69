/**
 * Seed rate: issue #7's rate-control claim measured against the real local RabbitMQ — "a
 * schedule-based pacer … achieved rate within ±1% of --rate over 60 s when the broker keeps
 * up, and no overshoot after a stall" (seeder/pacing/pacer.test.ts checks it only on a fake clock).
 *
 * 1. Steady: `seed()` at 2,000 events/s for 60 s (120,000 events; --quick: 10 s) into a private
 *    durable topic exchange with one durable classic queue bound to `#`. The figure is the
 *    achieved rate over the whole run ÷ the target: (confirmed − 1) over the time from the
 *    first send to the last, which is what the schedule controls (event i is due at t0 + i/rate).
 *    Also: the worst 10 s window and the worst second of confirms (1 s buckets from the first
 *    send, i.e. the run report's seconds without its sampling-timer jitter and 0.1 s rounding),
 *    the same from the run report's own rows, how far sends lagged the schedule, confirm
 *    latency from the intended send time, CPU of this process and of the broker.
 * 2. Stall: 5 s at the rate, then the schedule is paused for 5 s with the seeder's own control
 *    (`Pace.control({ kind: 'pause' })`, what `--control` and `echo pause` do), resumed, and
 *    10 s more. After the resume, no 1 s window — sliding, starting anywhere after the resume,
 *    so a burst cannot hide in a bucket boundary — may hold more sends than target × 1.01 plus
 *    one tick's worth (the seeder's loop sleeps at 1 ms granularity: 2 events at 2,000/s), or
 *    than the steady run's own most in a second when that is higher (a loaded machine delays
 *    the loop and the pacer catches up within maxLagMs by design: the pause must add nothing).
 *    The gate is on sends, what the pacer decides; the most confirms in a second are reported
 *    beside them and beside the steady run's (the broker batches confirms, so they jitter more).
 *
 * Every send and every confirm is time-stamped (the Pace's meter is wrapped; 2 × 8 bytes an
 * event), so all windows are computed exactly afterwards. The queue and exchange are deleted
 * whatever happens (also on Ctrl-C, which interrupts the seed cleanly); a run that takes more
 * than twice its expected time is interrupted.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pace } from '../seeder/pacing/pace.ts';
import { buildRunReport } from '../seeder/report/report.ts';
import { seed } from '../seeder/seed.ts';
import type { SeedResult } from '../seeder/summary.ts';
import type { BenchContext, BenchResult, Benchmark } from './measure.ts';
import { Topology, URL, inChild } from './seed.ts';

const RATE = 2000;
const TOLERANCE = 0.01;
/** The seeder's wait is a setTimeout: at most one wake-up per millisecond. */
const TICK_MS = 1;
const TICK_EVENTS = Math.ceil((RATE * TICK_MS) / 1000);
const OVERSHOOT_BAR = RATE * (1 + TOLERANCE) + TICK_EVENTS;

interface Stall {
  /** Pause this long after the first send ... */
  readonly afterMs: number;
  /** ... for this long. */
  readonly forMs: number;
}

export const seedRateBench: Benchmark = {
  name: 'seed-rate',
  description: `seed() at --rate ${RATE} against the local RabbitMQ: achieved rate ÷ target, worst window and second, latency; a 5 s control pause with no catch-up`,
  async run(ctx: BenchContext): Promise<BenchResult> {
    const host = new globalThis.URL(URL).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`seed-rate only runs against the local broker (127.0.0.1), not ${host}`);
    const seconds = ctx.quick ? 10 : 60;
    const count = RATE * seconds;
    // 5 s plus 125 ms: a control file or a broker alarm ends a pause at any phase of the seeder's
    // 250 ms wait while paused; a whole multiple of 250 ms would line up with it and hide the gap.
    const stall: Stall = ctx.quick ? { afterMs: 2000, forMs: 2125 } : { afterMs: 5000, forMs: 5125 };
    const stallCount = RATE * (ctx.quick ? 5 : 15);
    const lines: string[] = [];
    const problems: string[] = [];
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const dir = await mkdtemp(join(tmpdir(), 'seedline-bench-seed-rate-'));
    const loadBefore = loadavg();
    try {
      const events = join(dir, `events-${count}`);
      ctx.log(`writing ${count.toLocaleString('en-US')} chat events to ${events} ...`);
      await inChild(events, Math.max(count, stallCount));
      const topology = await Topology.declare(1);
      try {
        ctx.log(`steady: ${count.toLocaleString('en-US')} events at ${RATE}/s (${seconds} s) into ${topology.exchange} ...`);
        const steady = await pacedRun(events, topology.exchange, count, abort.signal, seconds);
        await topology.purge();
        steadyLines(steady, lines, problems);
        if (!abort.signal.aborted) {
          ctx.log(`stall: ${stallCount.toLocaleString('en-US')} events, paused ${stall.forMs / 1000} s after ${stall.afterMs / 1000} s ...`);
          const stalled = await pacedRun(events, topology.exchange, stallCount, abort.signal, stallCount / RATE + stall.forMs / 1000, stall);
          await topology.purge();
          stallLines(stalled, steady, lines, problems);
        }
      } finally {
        await topology.remove();
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await rm(dir, { recursive: true, force: true });
    }
    const loadAfter = loadavg();
    lines.push(`  machine    load average ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after (1/5/15 min)`);
    return { lines, problems };
  },
};

interface Recording {
  readonly count: number;
  readonly result: SeedResult;
  readonly pace: Pace;
  /** performance.now() of each publish and of each first ack, in order. */
  readonly sends: Float64Array;
  readonly acks: Float64Array;
  readonly pausedAt?: number;
  readonly resumedAt?: number;
  readonly cpuSeconds: number;
  readonly brokerCpuSeconds: number | null;
  readonly wallSeconds: number;
}

async function pacedRun(events: string, exchange: string, count: number, signal: AbortSignal, expectSeconds: number, stall?: Stall): Promise<Recording> {
  const pace = new Pace({ rate: RATE, selection: { limit: count } });
  const sends = new Float64Array(count);
  const acks = new Float64Array(count);
  let nSent = 0;
  let nAck = 0;
  let pausedAt: number | undefined;
  let resumedAt: number | undefined;
  const timers: NodeJS.Timeout[] = [];
  const meter = pace.meter;
  const sent = meter.sent.bind(meter);
  const onAck = meter.onAck.bind(meter);
  meter.sent = () => {
    const now = performance.now();
    if (nSent < count) sends[nSent] = now;
    if (nSent === 0 && stall) {
      timers.push(
        setTimeout(() => {
          pausedAt = performance.now();
          pace.control({ kind: 'pause' });
          timers.push(
            setTimeout(() => {
              resumedAt = performance.now();
              pace.control({ kind: 'resume' });
            }, stall.forMs),
          );
        }, stall.afterMs),
      );
    }
    nSent++;
    sent();
  };
  meter.onAck = (intendedAt: number) => {
    if (nAck < count) acks[nAck] = performance.now();
    nAck++;
    onAck(intendedAt);
  };
  // Stops by itself: a run that takes twice its expected time (plus a margin) is interrupted.
  const own = new AbortController();
  const stop = () => own.abort();
  signal.addEventListener('abort', stop, { once: true });
  const deadline = setTimeout(stop, (expectSeconds * 2 + 30) * 1000);
  const broker0 = await brokerCpu();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let result: SeedResult;
  try {
    result = await seed({ events, url: URL, exchange, pace, checkpoint: false, progress: 'off', signal: own.signal });
  } finally {
    clearTimeout(deadline);
    for (const t of timers) clearTimeout(t);
    signal.removeEventListener('abort', stop);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const broker1 = await brokerCpu();
  if (result.confirmed !== count || nSent !== count || nAck !== count) {
    throw new Error(`expected ${count} events sent and confirmed, got ${nSent} sent, ${nAck} acks, ${result.confirmed} confirmed`);
  }
  return {
    count,
    result,
    pace,
    sends,
    acks,
    pausedAt,
    resumedAt,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    brokerCpuSeconds: broker0 !== null && broker1 !== null ? broker1 - broker0 : null,
    wallSeconds,
  };
}

function steadyLines(r: Recording, lines: string[], problems: string[]): void {
  const n = r.count;
  const first = r.sends[0]!;
  const sendSpan = (r.sends[n - 1]! - first) / 1000;
  const ratio = (n - 1) / sendSpan / RATE;
  const ackRatio = (n - 1) / ((r.acks[n - 1]! - r.acks[0]!) / 1000) / RATE;
  const ackBuckets = buckets(r.acks, first, r.acks[n - 1]!);
  const sendBuckets = buckets(r.sends, first, r.sends[n - 1]!);
  const worstSecond = worstDeviation(ackBuckets.map((c) => c / RATE - 1));
  const worstSendSecond = worstDeviation(sendBuckets.map((c) => c / RATE - 1));
  const windows: number[] = [];
  for (let i = 0; i + 10 <= ackBuckets.length; i++) windows.push(ackBuckets.slice(i, i + 10).reduce((a, b) => a + b, 0) / (10 * RATE) - 1);
  const worstWindow = worstDeviation(windows);
  const sendWindows: number[] = [];
  for (let i = 0; i + 10 <= sendBuckets.length; i++) sendWindows.push(sendBuckets.slice(i, i + 10).reduce((a, b) => a + b, 0) / (10 * RATE) - 1);
  // The run report's own rows (as `--report` writes them), the first and last (partial) ones left out.
  const report = buildRunReport(r.pace, { limit: n }, r.result);
  const rows = report.seconds.slice(1, -1).filter((s) => !s.paused);
  const worstRow = worstDeviation(rows.map((s) => s.confirmed / RATE - 1));
  // The schedule's own t0 (begin(), before the first batch was read): no pause, so dueAt(0) is still it.
  const t0 = r.pace.pacer?.dueAt(0) ?? first;
  const fromT0 = (n - 1) / ((r.sends[n - 1]! - t0) / 1000) / RATE;
  const lag = sendLag(r.sends, 0, n, t0);
  const startBurst = r.sends.findIndex((t) => t > first + TICK_MS);
  const hist = r.pace.meter.overall;
  const pacer = r.pace.pacer;

  lines.push(`  steady     ${n.toLocaleString('en-US')} events at ${RATE}/s, 1 durable classic queue, window 1000; ${r.wallSeconds.toFixed(1)} s wall`);
  lines.push(`  steady     achieved ÷ target ${ratio.toFixed(4)} (first to last send, ${sendSpan.toFixed(2)} s; by confirms ${ackRatio.toFixed(4)}; from the schedule's t0 ${fromT0.toFixed(4)}) — bar ${1 - TOLERANCE}–${1 + TOLERANCE}`);
  lines.push(`  steady     worst 10 s window ${pct(worstWindow)} of confirms, ${pct(worstDeviation(sendWindows))} of sends (${windows.length} windows), worst second ${pct(worstSecond)} of confirms, ${pct(worstSendSecond)} of sends (${ackBuckets.length} full seconds from the first send)`);
  lines.push(`  steady     the run report's rows: worst second ${pct(worstRow)} (${rows.length} rows, sampled by a 1 s setInterval, t rounded to 0.1 s)`);
  lines.push(`  steady     first send ${(first - t0).toFixed(1)} ms after the schedule's t0, ${startBurst} events sent in its first ms (what was due meanwhile)`);
  lines.push(`  steady     sends behind schedule p50 ${lag.p50.toFixed(1)} ms p99 ${lag.p99.toFixed(1)} ms max ${lag.max.toFixed(1)} ms; most sends in 1 ms ${slidingMax(r.sends, 0, n, first, 1)}; pacer re-bases ${pacer?.stalls ?? 0} (${Math.round(pacer?.forgivenMs ?? 0)} ms forgiven)`);
  lines.push(`  steady     confirm latency from the intended send time p50 ${ms(hist.percentile(50))} p99 ${ms(hist.percentile(99))} p99.9 ${ms(hist.percentile(99.9))} max ${ms(hist.max)}`);
  lines.push(`  steady     CPU: this process ${r.cpuSeconds.toFixed(1)} s (${((r.cpuSeconds / r.wallSeconds) * 100).toFixed(0)}% of a core)${r.brokerCpuSeconds === null ? '' : `, the broker ${r.brokerCpuSeconds.toFixed(1)} s (${((r.brokerCpuSeconds / r.wallSeconds) * 100).toFixed(0)}%)`}`);
  if (Math.abs(ratio - 1) > TOLERANCE) problems.push(`steady: achieved ${ratio.toFixed(4)} of the target rate over ${sendSpan.toFixed(1)} s, outside ±${TOLERANCE * 100}%`);
  if ((pacer?.stalls ?? 0) > 0) problems.push(`steady: the pacer gave up catching up ${pacer!.stalls} times (${Math.round(pacer!.forgivenMs)} ms): the broker or this process did not keep up`);
}

function stallLines(r: Recording, steady: Recording, lines: string[], problems: string[]): void {
  const n = r.count;
  if (r.pausedAt === undefined || r.resumedAt === undefined) {
    problems.push('stall: the pause or the resume did not happen before the run ended');
    return;
  }
  const resumed = r.resumedAt;
  const pausedMs = resumed - r.pausedAt;
  const firstAfter = r.sends.findIndex((t) => t >= resumed);
  // Sends from the moment the pause was applied until the resume (the loop may be mid-tick: at most one tick's worth).
  let duringPause = 0;
  for (let i = 0; i < n; i++) if (r.sends[i]! > r.pausedAt + TICK_MS && r.sends[i]! < resumed) duringPause++;
  const after = n - firstAfter;
  const afterSpan = (r.sends[n - 1]! - resumed) / 1000;
  const afterRatio = after / afterSpan / RATE;
  const maxAckWindow = slidingMaxFrom(r.acks, resumed, 1000);
  const maxSendWindow = slidingMaxFrom(r.sends, resumed, 1000);
  const burst = slidingMax(r.sends, firstAfter, Math.min(n, firstAfter + RATE), resumed, 1);
  const steadySendWindow = slidingMax(steady.sends, 0, steady.count, steady.sends[0]!, 1000);
  const steadyAckWindow = slidingMax(steady.acks, 0, steady.count, steady.acks[0]!, 1000);
  const report = buildRunReport(r.pace, { limit: n }, r.result);
  const rowsAfter = report.seconds.filter((s) => !s.paused && s.t * 1000 > resumed - r.sends[0]! + 1000).slice(0, -1);
  const worstRowAfter = Math.max(0, ...rowsAfter.map((s) => s.confirmed));
  lines.push(`  stall      ${n.toLocaleString('en-US')} events at ${RATE}/s, paused with Pace.control('pause') after ${((r.pausedAt - r.sends[0]!) / 1000).toFixed(2)} s for ${(pausedMs / 1000).toFixed(2)} s; ${r.wallSeconds.toFixed(1)} s wall`);
  const dueFirst = r.pace.pacer ? r.pace.pacer.dueAt(firstAfter) - resumed : Number.NaN;
  lines.push(`  stall      sends while paused ${duringPause}; the first event after it was due ${dueFirst.toFixed(1)} ms after the resume and sent ${(r.sends[firstAfter]! - resumed).toFixed(1)} ms after it; ${after.toLocaleString('en-US')} events after it at ${afterRatio.toFixed(4)} of the target; most sends in 1 ms after it ${burst}`);
  lines.push(`  stall      after the resume, most in any 1 s window: ${maxAckWindow} confirms, ${maxSendWindow} sends (bar ${OVERSHOOT_BAR} = target +1% + ${TICK_EVENTS} events of one ${TICK_MS} ms tick); the steady run's most: ${steadyAckWindow} confirms, ${steadySendWindow} sends`);
  lines.push(`  stall      the run report's rows after the resume: most ${worstRowAfter} confirmed in a row (${rowsAfter.length} rows); pacer paused ${Math.round(r.pace.pacer?.pausedMs ?? 0)} ms, re-bases ${r.pace.pacer?.stalls ?? 0}; confirm latency p99 ${ms(r.pace.meter.overall.percentile(99))}`);
  if (duringPause > 0) problems.push(`stall: ${duringPause} events were sent while the schedule was paused`);
  // The gate is on sends, what the pacer controls: the broker batches confirms (at this load the
  // steady run's confirms alone exceed the bar in some second), so confirms cannot tell a burst
  // after the resume from the broker's own jitter. Both are reported above.
  // A loaded machine delays the loop now and then and the pacer catches up within maxLagMs, by
  // design: the steady run's own most-in-a-second is that jitter, measured in the same run. A
  // pause must add nothing to it.
  const bar = Math.max(OVERSHOOT_BAR, steadySendWindow);
  if (maxSendWindow > bar) {
    problems.push(`stall: ${maxSendWindow} events were sent in one second after the resume, over ${bar} (target ${RATE} +1% + one tick, or the steady run's own most if higher): a catch-up burst (the first send came ${(r.sends[firstAfter]! - resumed).toFixed(0)} ms after the resume)`);
  }
}

/** Counts of `times` in full 1 s buckets [from + k s, from + (k+1) s) up to `to`. */
function buckets(times: Float64Array, from: number, to: number): number[] {
  const full = Math.floor((to - from) / 1000);
  const counts = new Array<number>(full).fill(0);
  for (const t of times) {
    const k = Math.floor((t - from) / 1000);
    if (k >= 0 && k < full) counts[k]!++;
  }
  return counts;
}

/** The most of `times[lo..hi)` in any window [times[i], times[i] + widthMs) with times[i] ≥ from. */
function slidingMax(times: Float64Array, lo: number, hi: number, from: number, widthMs: number): number {
  let best = 0;
  let j = lo;
  for (let i = lo; i < hi; i++) {
    if (times[i]! < from) continue;
    if (j < i) j = i;
    while (j < hi && times[j]! < times[i]! + widthMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

function slidingMaxFrom(times: Float64Array, from: number, widthMs: number): number {
  return slidingMax(times, 0, times.length, from, widthMs);
}

/** How far each send was behind its due time, taking the first send as t0 (ms). */
function sendLag(sends: Float64Array, lo: number, hi: number, t0: number): { p50: number; p99: number; max: number } {
  const lag = new Float64Array(hi - lo);
  for (let i = lo; i < hi; i++) lag[i - lo] = sends[i]! - (t0 + ((i - lo) * 1000) / RATE);
  lag.sort();
  const at = (p: number) => lag[Math.min(lag.length - 1, Math.floor((p / 100) * lag.length))]!;
  return { p50: at(50), p99: at(99), max: lag[lag.length - 1]! };
}

/** The deviation furthest from 0, with its sign. */
function worstDeviation(devs: readonly number[]): number {
  return devs.reduce((w, d) => (Math.abs(d) > Math.abs(w) ? d : w), 0);
}

/** CPU seconds used so far by the broker (beam.smp, found in /proc), or null when not found. */
async function brokerCpu(): Promise<number | null> {
  try {
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
      if (comm.trim() !== 'beam.smp') continue;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of stat (11 and 12 after the command), in clock ticks (100/s).
      return (Number(fields[11]) + Number(fields[12])) / 100;
    }
  } catch {
    // not Linux, or /proc unreadable
  }
  return null;
}

function pct(dev: number): string {
  return `${dev >= 0 ? '+' : ''}${(dev * 100).toFixed(2)}%`;
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(1)} ms`;
}

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' ');
}
