import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { SeedlineError } from '../../common/errors.ts';
import { MODULES } from '../../transformer/modules/index.ts';
import { connectFirst, parseUrls } from '../broker/broker.ts';
import { declareTopology, deleteTopology, type Topology } from '../broker/topology.ts';

/**
 * `seedline backend-sim`: a stand-in for the new system's modules. One durable queue per
 * module, bound to the event types that module emits (the topology a real backend would
 * have), each consumed at a fixed capacity with manual acks and a prefetch window, as a
 * single worker that spends 1/capacity seconds (± jitter) per event.
 */
export interface SimQueueSpec {
  /** A module of transformer/modules (its `emits` become the bindings). */
  readonly module: string;
  /** Events per second the queue's consumer handles. */
  readonly capacity: number;
}

export interface BackendSimOptions {
  readonly url: string;
  readonly exchange: string;
  readonly queues: readonly SimQueueSpec[];
  /** Queue name = prefix + module; default `<exchange>.`. */
  readonly queuePrefix?: string;
  /** Unacked messages per consumer; default capacity/10 (at least 10), enough to not limit it. */
  readonly prefetch?: number;
  /** Per-event cost varies uniformly within ±jitter of 1/capacity (0–0.9); the mean stays 1/capacity. */
  readonly jitter?: number;
}

export interface SimQueue {
  readonly name: string;
  readonly module: string;
  readonly capacity: number;
  readonly bindings: readonly string[];
  /** Events acked so far. */
  consumed: number;
}

/** How often finished events are acked (one multiple-ack per queue per tick). */
const TICK_MS = 10;

/** `chat=300/s` (or `chat=300`) → { module: 'chat', capacity: 300 }. */
export function parseSimQueue(text: string): SimQueueSpec {
  const m = /^([a-z][a-z0-9-]*)=(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text.trim());
  if (!m || Number(m[2]) <= 0) {
    throw new SeedlineError('USAGE', `--queue must be module=capacity/s like chat=300/s, got '${text}'`, { option: '--queue' });
  }
  return { module: m[1]!, capacity: Number(m[2]) };
}

/** The event types a module emits: what its queue is bound to. */
export function moduleEventTypes(module: string): readonly string[] {
  const found = MODULES.find((m) => m.name === module);
  if (!found) {
    throw new SeedlineError('USAGE', `--queue ${module}=…: there is no module '${module}'`, {
      option: '--queue',
      hint: `modules: ${MODULES.map((m) => m.name).join(', ')} (seedline modules lists their events)`,
    });
  }
  return Object.keys(found.emits);
}

export class BackendSim {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(
    private readonly connection: ChannelModel,
    private readonly url: string,
    private readonly topology: Topology,
    readonly queues: readonly SimQueue[],
  ) {}

  /** Declares the queues and bindings (idempotent) and starts consuming. */
  static async start(options: BackendSimOptions): Promise<BackendSim> {
    if (options.queues.length === 0) throw new SeedlineError('USAGE', 'backend-sim needs at least one --queue module=capacity/s', { option: '--queue' });
    const jitter = options.jitter ?? 0;
    if (!(jitter >= 0 && jitter <= 0.9)) throw new SeedlineError('USAGE', `--jitter must be between 0 and 0.9, got ${jitter}`, { option: '--jitter' });
    const prefix = options.queuePrefix ?? `${options.exchange}.`;
    const queues: SimQueue[] = options.queues.map((q) => ({ name: `${prefix}${q.module}`, module: q.module, capacity: q.capacity, bindings: moduleEventTypes(q.module), consumed: 0 }));
    const topology: Topology = { queues: queues.map((q) => ({ name: q.name, type: 'classic' as const, bindings: q.bindings })) };
    await declareTopology(options.url, options.exchange, topology);
    const { connection } = await connectFirst(parseUrls(options.url), `seedline backend-sim ${options.exchange}`); // a cluster's node list too
    const sim = new BackendSim(connection, options.url, topology, queues);
    const workers: Worker[] = [];
    for (const q of queues) {
      const channel = await connection.createChannel();
      await channel.prefetch(options.prefetch ?? Math.max(10, Math.ceil(q.capacity / 10)));
      const worker = new Worker(channel, q, jitter);
      await channel.consume(q.name, (msg) => msg && worker.arrive(msg), { noAck: false });
      workers.push(worker);
    }
    sim.timer = setInterval(() => {
      const now = performance.now();
      for (const w of workers) w.ackDone(now);
    }, TICK_MS);
    return sim;
  }

  /** Stops consuming (unacked events go back to their queues); `deleteQueues` removes them too. */
  async stop(options: { deleteQueues?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.connection.close().catch(() => undefined);
    if (options.deleteQueues) await deleteTopology(this.url, this.topology);
  }
}

/** One queue's consumer: a single worker serving events in arrival order. */
class Worker {
  /** Delivered, not yet acked, with when the worker finishes each (ms, performance.now()). */
  private readonly pending: Array<{ msg: ConsumeMessage; doneAt: number }> = [];
  private freeAt = 0;

  constructor(
    private readonly channel: Channel,
    private readonly queue: SimQueue,
    private readonly jitter: number,
  ) {}

  arrive(msg: ConsumeMessage): void {
    const cost = (1000 / this.queue.capacity) * (1 + this.jitter * (2 * Math.random() - 1));
    this.freeAt = Math.max(performance.now(), this.freeAt) + cost;
    this.pending.push({ msg, doneAt: this.freeAt });
  }

  /** Acks every event the worker has finished by `now`, with one multiple-ack. */
  ackDone(now: number): void {
    let done = 0;
    while (done < this.pending.length && this.pending[done]!.doneAt <= now) done++;
    if (done === 0) return;
    try {
      this.channel.ack(this.pending[done - 1]!.msg, true);
    } catch {
      return; // the channel closed (stop): the broker requeues what was not acked
    }
    this.pending.splice(0, done);
    this.queue.consumed += done;
  }
}
