import { parentPort, workerData } from 'node:worker_threads';
import { EventEncoder } from './event-encoder.ts';
import { newStats, runTask, type GenerateStats } from './generate.ts';
import type { GenerateTask } from './generate-tasks.ts';
import { lookupsFromShared, type SharedLookups } from './lookups/index.ts';
import type { EventModule } from './module.ts';
import type { RejectRecord } from './rejects.ts';
import { ScratchWriter } from './proto-writer.ts';
import { beginFramedSortRecord, endFramedSortRecord } from './sort-record.ts';
import type { FromWorker, ToWorker, WorkerError } from './worker-messages.ts';

/**
 * A generation worker thread (parallel-generate.ts starts it): runs the tasks the main thread
 * hands it, one at a time, and sends back the sort records in framed batches of ~1 MB (the
 * buffer is transferred, not copied), the rejects in order, and the task's counts. At most
 * IN_FLIGHT batches wait for the main thread's ack: the sorter's pace is the worker's pace.
 */
export interface GenerateWorkerData {
  /** URL of a module exporting `MODULES` (transformer/modules/index.ts, or a test's). */
  readonly modulesUrl: string;
  readonly moduleNames: readonly string[];
  readonly lookups: SharedLookups;
}

const BATCH_BYTES = 1024 * 1024;
/**
 * A batch is sent when less than this is left in it, before an event: records are written in
 * place, so an event must fit in what is left. One that does not (a huge text) makes the
 * writer grow: that bigger buffer is sent as a batch too, and not recycled.
 */
const BATCH_HEADROOM = 64 * 1024;
const IN_FLIGHT = 4;
const REJECT_BATCH = 256;

const data = workerData as GenerateWorkerData;
const port = parentPort!;
const all = ((await import(data.modulesUrl)) as { MODULES: readonly EventModule[] }).MODULES;
const modules = new Map(all.filter((m) => data.moduleNames.includes(m.name)).map((m) => [m.name, m]));
const encoder = await EventEncoder.create([...modules.values()]);
const lookups = lookupsFromShared(data.lookups);
/** A stateful module has one task, so its state lives as long as that task. */

/** Batch memory the main thread has handed back. */
const spareBatches: ArrayBuffer[] = [];

/** A batch buffer: its own ArrayBuffer (not a slice of Node's pool), so it can be transferred. */
function takeBatch(): Buffer {
  const spare = spareBatches.pop();
  return spare ? Buffer.from(spare) : Buffer.from(new ArrayBuffer(BATCH_BYTES));
}

let unacked = 0;
let credit: (() => void) | null = null;
let stopped = false;

port.on('message', (message: ToWorker) => {
  if (message.type === 'ack') {
    if (message.buffer.byteLength === BATCH_BYTES && spareBatches.length < IN_FLIGHT) spareBatches.push(message.buffer);
    unacked--;
    credit?.();
    credit = null;
  } else if (message.type === 'task') {
    void run(message.task);
  } else if (message.type === 'stop') {
    stopped = true;
    port.close();
  }
});
port.postMessage({ type: 'ready' } satisfies FromWorker);

async function run(task: GenerateTask): Promise<void> {
  const module = modules.get(task.module)!;
  const w = new ScratchWriter(takeBatch()); // the batch: sort records are written straight into it
  let rejects: RejectRecord[] = [];
  const stats: GenerateStats = newStats();
  let sentRows = 0;
  let sentEvents = 0;
  const send = async (): Promise<void> => {
    if (rejects.length > 0) {
      port.postMessage({ type: 'rejects', task: task.index, rejects } satisfies FromWorker);
      rejects = [];
    }
    if (w.pos === 0) return;
    // The batch's own memory goes to the main thread and comes back with the ack (recycled):
    // fresh memory costs a page fault per 4 KB, ~3 ms per MB on this VM. (A writer grown past a
    // batch holds an ArrayBuffer of its own too: Buffers of more than 4 KB are not pooled.)
    const records = w.buf.buffer as ArrayBuffer;
    port.postMessage(
      { type: 'events', task: task.index, records, length: w.pos, rows: stats.rows - sentRows, events: stats.events - sentEvents } satisfies FromWorker,
      [records],
    );
    sentRows = stats.rows;
    sentEvents = stats.events;
    w.buf = takeBatch();
    w.pos = 0;
    if (++unacked >= IN_FLIGHT) await new Promise<void>((resolve) => (credit = resolve));
  };
  try {
    await runTask(task, module, {
      lookups,
      state: module.state(),
      emit(event) {
        const wait = w.buf.length - w.pos < BATCH_HEADROOM ? send() : undefined;
        const start = beginFramedSortRecord(w, event);
        const envelopeStart = w.pos;
        encoder.encodeInto(w, event.module, event.table, event.pkJson, event.draft);
        endFramedSortRecord(w, start, envelopeStart);
        return wait;
      },
      reject(r) {
        rejects.push(r);
        return rejects.length >= REJECT_BATCH ? send() : undefined;
      },
      checkpoint() {
        if (stopped) throw new Error('stopped by the main thread');
      },
      stats,
    });
    await send();
    port.postMessage({ type: 'done', task: task.index, stats, rows: stats.rows - sentRows, events: stats.events - sentEvents } satisfies FromWorker);
  } catch (err) {
    if (stopped) return;
    port.postMessage({ type: 'error', task: task.index, error: serializeError(err) } satisfies FromWorker);
  }
}

function serializeError(err: unknown): WorkerError {
  const e = err as { name?: string; message?: string; code?: string; context?: Record<string, unknown>; stack?: string };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    ...(e?.code !== undefined && e?.name === 'SeedlineError' ? { code: e.code, context: e.context ?? {} } : {}),
    ...(e?.stack ? { stack: e.stack } : {}),
  };
}
