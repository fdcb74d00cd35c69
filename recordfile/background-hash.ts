import { createHash, type Hash } from 'node:crypto';
import { Worker, isMainThread } from 'node:worker_threads';

/**
 * sha256 of a part, computed on a worker thread. Reading a part is bound by the thread that
 * decodes records (gunzip already runs on libuv's pool); hashing there cost ~6% of read
 * throughput. The worker hashes exactly the bytes the reader read: each compressed chunk is
 * copied and handed over, so the check still covers what was decoded.
 */

// Plain CommonJS, evaluated as is: no loader (tsx, vitest) is needed inside the worker.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash('sha256')));
    hash.update(new Uint8Array(m.data, 0, m.length));
    // Back to the reading thread for reuse: a transferred buffer left here would be freed only
    // by this thread's garbage collector, which its tiny heap seldom runs (60+ MB piled up).
    parentPort.postMessage({ op: 'free', data: m.data }, [m.data]);
  } else if (m.op === 'digest') {
    const hash = hashes.get(m.id) ?? createHash('sha256');
    hashes.delete(m.id);
    parentPort.postMessage({ id: m.id, sha256: hash.digest('hex') });
  } else if (m.op === 'drop') {
    hashes.delete(m.id);
  }
});
`;

interface Waiter {
  resolve(sha256: string): void;
  reject(err: unknown): void;
}

let worker: Worker | null = null;
let nextId = 0;
/** Hashes in progress: while there are any the worker keeps the process alive. */
let active = 0;
const waiting = new Map<number, Waiter>();
const exited = new WeakSet<Worker>();
/** Chunk buffers the worker has hashed and handed back, for the next updates. */
const free: ArrayBuffer[] = [];
const MAX_FREE = 8;
const BUFFER_BYTES = 1024 * 1024;

function sharedWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.unref();
  w.on('message', (m: { id: number; sha256: string } | { op: 'free'; data: ArrayBuffer }) => {
    if ('op' in m) {
      if (free.length < MAX_FREE) free.push(m.data);
      return;
    }
    const waiter = waiting.get(m.id);
    waiting.delete(m.id);
    waiter?.resolve(m.sha256);
  });
  const fail = (err: unknown) => {
    exited.add(w);
    if (worker === w) worker = null;
    for (const waiter of waiting.values()) waiter.reject(err);
    waiting.clear();
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the sha256 worker thread exited with code ${code}`)));
  worker = w;
  return w;
}

export class BackgroundSha256 {
  private readonly id = nextId++;
  /**
   * On a worker thread (the transform's generation workers) the hash is computed in place:
   * that thread is already off the main one, and a hash thread per worker would cost each
   * another V8 isolate (~15 MB) for ~0.2 µs per row.
   */
  private readonly local: Hash | null = isMainThread ? null : createHash('sha256');
  private readonly worker = this.local ? null : sharedWorker();
  private done = false;

  constructor() {
    if (this.worker && active++ === 0) this.worker.ref();
  }

  update(chunk: Buffer): void {
    if (this.local) {
      this.local.update(chunk);
      return;
    }
    // A copy that can be transferred (the reader's own buffer goes on to gunzip), into a
    // buffer the worker handed back when there is one.
    let data = free.pop();
    if (!data || data.byteLength < chunk.length) data = new ArrayBuffer(Math.max(chunk.length, BUFFER_BYTES));
    new Uint8Array(data, 0, chunk.length).set(chunk);
    this.worker!.postMessage({ op: 'update', id: this.id, data, length: chunk.length }, [data]);
  }

  /** The hex digest of everything passed to `update`. */
  async digest(): Promise<string> {
    if (this.done) throw new Error('digest() called twice');
    if (this.local) {
      this.done = true;
      return this.local.digest('hex');
    }
    const worker = this.worker!;
    if (exited.has(worker)) {
      this.release();
      throw new Error('the sha256 worker thread stopped before the part was hashed');
    }
    const result = new Promise<string>((resolve, reject) => waiting.set(this.id, { resolve, reject }));
    worker.postMessage({ op: 'digest', id: this.id });
    try {
      return await result;
    } finally {
      this.release();
    }
  }

  /** Abandons the hash (the read stopped early); safe to call after digest(). */
  dispose(): void {
    if (this.done) return;
    this.worker?.postMessage({ op: 'drop', id: this.id });
    this.release();
  }

  private release(): void {
    if (this.done) return;
    this.done = true;
    if (this.worker && --active === 0) this.worker.unref();
  }
}
