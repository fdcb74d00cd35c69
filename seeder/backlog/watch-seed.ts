import { SeedlineError } from '../../common/errors.ts';
import { seed, type SeedOptions } from '../seed.ts';
import { SeedFailure, type SeedResult } from '../summary.ts';
import type { QueueWatch } from './watch.ts';
import { describeBreach } from './watch-report.ts';

/**
 * A seed run under a backlog watch: the watch's guard stops the run the way Ctrl-C does
 * (stop sending, await the confirms, write the checkpoint), and is then reported as
 * BACKLOG_LIMIT naming the queue and the time. With `drainTimeoutMs` the run waits at the
 * end until the watched queues are empty, and the report says how long that took.
 */
export async function seedWatched(options: SeedOptions, watch: QueueWatch, drainTimeoutMs?: number): Promise<SeedResult> {
  const either = eitherSignal(watch.signal, options.signal);
  let result: SeedResult;
  try {
    result = await seed({ ...options, watch, signal: either.signal });
  } catch (err) {
    throw backlogFailure(err, watch, options) ?? err;
  } finally {
    either.dispose();
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

/**
 * A signal that fires when any of the given ones does, or after `afterMs`. Not AbortSignal.any:
 * a source only it refers to (AbortSignal.timeout) can be collected and then never fires.
 */
export function eitherSignal(a: AbortSignal, b?: AbortSignal, afterMs?: number): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const sources = b ? [a, b] : [a];
  for (const s of sources) {
    if (s.aborted) controller.abort();
    else s.addEventListener('abort', abort, { once: true });
  }
  const timer = afterMs === undefined ? null : setTimeout(abort, afterMs);
  return {
    signal: controller.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      for (const s of sources) s.removeEventListener('abort', abort);
    },
  };
}
