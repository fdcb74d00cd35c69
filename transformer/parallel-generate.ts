import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SeedlineError, isSeedlineError, type ErrorCode } from '../common/errors.ts';
import { addRowOutcomes, type GenerateOptions } from './generate.ts';
import { planTasks, type GenerateTask } from './generate-tasks.ts';
import type { GenerateWorkerData } from './generate-worker.ts';
import { shareLookups } from './lookups/index.ts';
import type { RejectRecord } from './rejects.ts';
import type { FromWorker, ToWorker, WorkerError } from './worker-messages.ts';

/**
 * generateEvents on worker threads: the tasks (generate-tasks.ts: one per dump part) go to
 * `workers` threads, each reading, decoding and running the module over its part and sending
 * back sort records; this thread only adds them to the sorter and writes the rejects. The
 * output does not depend on the number of workers: the sort orders events by their bytes
 * whatever order they arrive in, and rejects are written in task order (a task's rejects wait
 * until every earlier task is done).
 */
export interface ParallelGenerateOptions extends GenerateOptions {
  /** Takes a batch of sort records in delimited framing (ExternalSorter.addFramed). */
  emitFramed(framed: Buffer): Promise<void>;
  readonly workers: number;
  /** URL of the module list the workers load (default transformer/modules/index.ts; tests pass their own). */
  readonly modulesUrl?: string;
  readonly signal?: AbortSignal;
}

/**
 * Run from the compiled build (bin/seedline.js, scripts/build.mjs), the worker and the module
 * list are entry points of the build, beside this file; run from the TypeScript sources (tests,
 * benchmarks), the worker registers tsx to load them.
 */
const COMPILED = import.meta.url.endsWith('.js');
const MODULES_URL = new URL(COMPILED ? './modules.js' : './modules/index.ts', import.meta.url).href;
const WORKER_URL = new URL(COMPILED ? './generate-worker.js' : './generate-worker.ts', import.meta.url).href;

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx) import(workerData.tsx).then(({ register }) => { register(); return import(workerData.entry); });
else import(workerData.entry);
`;

/**
 * A smaller young generation than V8's default (3 x 16 MB semi-spaces) in each worker: the
 * garbage of decoded rows dies young either way, and the budget pays for every worker's heap.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 12 };

function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  return pathToFileURL(join(dirname(require.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
}

interface TaskState {
  readonly task: GenerateTask;
  rejects: RejectRecord[][];
  done: boolean;
}

export async function generateInWorkers(options: ParallelGenerateOptions): Promise<void> {
  const tasks = await planTasks(options.dump, options.modules, options.limit);
  if (tasks.length === 0) return;
  const states: TaskState[] = tasks.map((task) => ({ task, rejects: [], done: false }));
  const data: GenerateWorkerData & { tsx: string | null; entry: string } = {
    modulesUrl: options.modulesUrl ?? MODULES_URL,
    moduleNames: options.modules.map((m) => m.module.name),
    lookups: shareLookups(options.lookups),
    tsx: COMPILED ? null : tsxApiUrl(),
    entry: WORKER_URL,
  };
  const { stats } = options;
  const workers: Worker[] = [];
  /** Which task each worker runs (for errors naming the part). */
  const running = new Map<Worker, number>();
  let nextTask = 0;
  let nextReject = 0;
  let finished = 0;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const result = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

  const fail = (err: unknown) => {
    if (failure) return;
    failure = err;
    for (const w of workers) void w.terminate();
    settle.reject(err);
  };
  /** Work on the sorter and reject log happens one message at a time, in arrival order. */
  const serially = (work: () => Promise<void> | void) => {
    chain = chain.then(async () => {
      if (failure) return;
      options.checkpoint();
      await work();
    }).catch(fail);
  };
  const flushRejects = async () => {
    while (nextReject < states.length) {
      const state = states[nextReject]!;
      for (const batch of state.rejects) {
        for (const r of batch) {
          const wait = options.rejects.add(r);
          if (wait) await wait;
        }
      }
      state.rejects = [];
      if (!state.done) return;
      nextReject++;
    }
  };
  const assign = (worker: Worker) => {
    if (nextTask >= tasks.length) {
      running.delete(worker);
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      return;
    }
    const task = tasks[nextTask++]!;
    running.set(worker, task.index);
    worker.postMessage({ type: 'task', task } satisfies ToWorker);
  };
  const onMessage = (worker: Worker, message: FromWorker) => {
    switch (message.type) {
      case 'ready':
        assign(worker);
        return;
      case 'events':
        serially(async () => {
          await options.emitFramed(Buffer.from(message.records, 0, message.length));
          stats.rows += message.rows;
          stats.events += message.events;
          // The sorter has copied the records: the memory goes back to the worker for its next batch.
          worker.postMessage({ type: 'ack', buffer: message.records } satisfies ToWorker, [message.records]);
        });
        return;
      case 'rejects':
        states[message.task]!.rejects.push(message.rejects);
        serially(flushRejects);
        return;
      case 'done':
        serially(async () => {
          stats.rows += message.rows;
          stats.events += message.events;
          for (const [table, n] of Object.entries(message.stats.rowsByTable)) stats.rowsByTable[table] = (stats.rowsByTable[table] ?? 0) + n;
          for (const [type, n] of Object.entries(message.stats.eventsByType)) stats.eventsByType[type] = (stats.eventsByType[type] ?? 0) + n;
          addRowOutcomes(stats.rowsByModule, message.stats.rowsByModule);
          states[message.task]!.done = true;
          await flushRejects();
          assign(worker);
          if (++finished === tasks.length) settle.resolve();
        });
        return;
      case 'error':
        fail(taskError(tasks[message.task]!, message.error));
    }
  };

  const onAbort = () => {
    try {
      options.checkpoint(); // throws INTERRUPTED
    } catch (err) {
      fail(err);
    }
  };
  options.signal?.addEventListener('abort', onAbort);
  try {
    for (let i = 0; i < Math.min(options.workers, tasks.length); i++) {
      const worker = new Worker(BOOTSTRAP, { eval: true, workerData: data, resourceLimits: WORKER_LIMITS });
      workers.push(worker);
      worker.on('message', (m: FromWorker) => onMessage(worker, m));
      worker.on('error', (err) => {
        const index = running.get(worker);
        fail(index === undefined ? workerFailed(err) : taskError(tasks[index]!, { name: err.name, message: err.message, stack: err.stack }));
      });
      worker.on('exit', (code) => {
        if (running.has(worker) && !failure) fail(workerFailed(new Error(`exited with code ${code} during task ${running.get(worker)}`)));
      });
    }
    await result;
    await chain;
    if (failure) throw failure;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A worker's error, naming the module, table and part it was working on. */
function taskError(task: GenerateTask, error: WorkerError): SeedlineError {
  const segment = task.segments[0]!;
  const part = segment.parts.length === 1 ? segment.parts[0]!.file : undefined;
  const where = `module ${task.module}, table ${segment.table}${part ? `, part ${part}` : ''}`;
  if (error.code !== undefined) {
    const context = error.context ?? {};
    return new SeedlineError(error.code as ErrorCode, `${error.message} (worker thread: ${where})`, {
      module: task.module,
      table: segment.table,
      ...(part ? { file: part } : {}),
      ...context,
    });
  }
  return new SeedlineError(
    'TRANSFORM_FAILED',
    `${where}: a worker thread failed: ${error.message}`,
    { module: task.module, table: segment.table, ...(part ? { file: part } : {}), hint: `the stack in the worker: ${error.stack?.split('\n').slice(0, 3).join(' | ') ?? 'none'}` },
  );
}

function workerFailed(err: unknown): SeedlineError {
  if (isSeedlineError(err)) return err;
  return new SeedlineError('TRANSFORM_FAILED', `a transform worker thread failed: ${(err as Error).message}`, {
    hint: 'run again with --workers 0 to run the modules on the main thread and see the error there',
  });
}
