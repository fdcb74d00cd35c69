/**
 * How a transform spends `--memory`: everything it holds that grows with the data or the
 * options, so that peak RSS stays within the budget plus what Node itself costs (the code,
 * tsx, protobufjs, the JS heap: ~150 MB on this VM, transformer/README.md).
 *
 *  - lookups: what they need, first (typed arrays by id; shared with the workers);
 *  - worker threads: WORKER_BYTES each; by default only as many as leave a quarter of the budget;
 *  - IO_RESERVE: the two write blocks of a run being spilled, the output parts' gzip segments,
 *    the dump parts being read and the event batches in flight (~30 MB measured at 64 MB);
 *  - the sorter: one run's arena while the modules run (beside the workers), then that arena
 *    plus the merge's read blocks (the workers are gone by then): a quarter of what is left goes
 *    to the merge, the rest to the run.
 */
export interface MemoryPlan {
  readonly workers: number;
  readonly runBytes: number;
  readonly mergeBytes: number;
}

/**
 * Memory set aside per generation worker thread: its V8 heap (~45 MB), buffers (~15-25 MB),
 * the thread tsx's loader hooks run on, and margin: with 2 workers the finland transform
 * peaked ~100 MB higher in the bench process than standalone (553 MB) at 96 MB each.
 */
export const WORKER_BYTES = 128 * 1024 * 1024;
/** Write blocks of a spilling run (2 × 4 MB), gzip segments and read buffers, batches in flight. */
export const IO_RESERVE = 32 * 1024 * 1024;

/**
 * `wantedWorkers`: the default worker count (workerCount()); `explicitWorkers`: --workers, which
 * is honoured even beyond the budget (each costs WORKER_BYTES more than planned then).
 */
export function memoryPlan(memoryBytes: number, lookupBytes: number, wantedWorkers: number, explicitWorkers?: number): MemoryPlan {
  const workers = explicitWorkers ?? Math.min(wantedWorkers, Math.max(0, Math.floor((memoryBytes - lookupBytes - memoryBytes / 4) / WORKER_BYTES)));
  const sortable = memoryBytes - lookupBytes - IO_RESERVE;
  // However much the lookups took, a run keeps an eighth of the budget (or it would spill every record).
  const floor = Math.floor(memoryBytes / 8);
  const mergeBytes = Math.max(floor, Math.floor(sortable / 4));
  const runBytes = Math.max(floor, Math.min(sortable - workers * WORKER_BYTES, sortable - mergeBytes));
  return { workers, runBytes: Math.max(1, runBytes), mergeBytes: Math.max(1, mergeBytes) };
}
