import { SeedlineError } from '../common/errors.ts';
import { seed, type SeedOptions } from './seed.ts';
import { SeedFailure, type SeedResult } from './summary.ts';
import { describeBreach, type QueueWatch } from './watch.ts';

/**
 * A seed run under a backlog watch: the watch's guard stops the run the way Ctrl-C does
 * (stop sending, await the confirms, write the checkpoint), and is then reported as
 * BACKLOG_LIMIT naming the queue and the time. With `drainTimeoutMs` the run waits at the
 * end until the watched queues are empty, and the report says how long that took.
 */
export async function seedWatched(options: SeedOptions, watch: QueueWatch, drainTimeoutMs?: number): Promise<SeedResult> {
  const signals = [watch.signal, ...(options.signal ? [options.signal] : [])];
  let result: SeedResult;
  try {
    result = await seed({ ...options, watch, signal: AbortSignal.any(signals) });
  } catch (err) {
    throw backlogFailure(err, watch, options) ?? err;
  }
  if (drainTimeoutMs !== undefined) await watch.drain(drainTimeoutMs, options.signal);
  return result;
}

/** The guard's stop as BACKLOG_LIMIT (a Ctrl-C at the same time stays INTERRUPTED). */
function backlogFailure(err: unknown, watch: QueueWatch, options: SeedOptions): SeedlineError | null {
  const breach = watch.breach;
  if (!breach || !(err instanceof SeedlineError) || err.code !== 'INTERRUPTED') return null;
  if (options.signal?.aborted) return null;
  const hint = 'the backend falls behind at this rate: lower --rate, or raise the limit; seed --resume continues from the checkpoint';
  const message = `stopped: ${describeBreach(breach)}`;
  const context = { option: breach.kind === 'backlog' ? '--max-backlog' : '--max-backlog-growth', hint };
  return err instanceof SeedFailure ? new SeedFailure('BACKLOG_LIMIT', message, err.result, context, { cause: err }) : new SeedlineError('BACKLOG_LIMIT', message, context, { cause: err });
}
