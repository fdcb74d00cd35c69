import type { GenerateStats } from './generate.ts';
import type { GenerateTask } from './generate-tasks.ts';
import type { RejectRecord } from './rejects.ts';

/** What the main thread and a generation worker (generate-worker.ts) say to each other. */
export type ToWorker =
  | { readonly type: 'task'; readonly task: GenerateTask }
  /** One `events` batch has been added to the sorter: the worker may send another; its memory comes back. */
  | { readonly type: 'ack'; readonly buffer: ArrayBuffer }
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'ready' }
  /** Sort records, framed (varint length + bytes), in `records[0, length)`; `rows`/`events`: read and made since the last message. */
  | { readonly type: 'events'; readonly task: number; readonly records: ArrayBuffer; readonly length: number; readonly rows: number; readonly events: number }
  | { readonly type: 'rejects'; readonly task: number; readonly rejects: RejectRecord[] }
  | { readonly type: 'done'; readonly task: number; readonly stats: GenerateStats; readonly rows: number; readonly events: number }
  | { readonly type: 'error'; readonly task: number; readonly error: WorkerError };

/** An error as it crosses threads: a SeedlineError keeps its code and context. */
export interface WorkerError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly context?: Record<string, unknown>;
  readonly stack?: string;
}
