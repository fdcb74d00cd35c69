import { readFile } from 'node:fs/promises';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import { connectFirst, operationError, parseUrls } from './broker.ts';

/**
 * A staging topology, declared before seeding (`--topology <file>`): queues (classic,
 * quorum or stream, durable) and the routing-key patterns that bind them to the seed's exchange. So a
 * staging RabbitMQ can be stood up from the repo. See seeder/topology.example.json.
 */
export interface QueueSpec {
  readonly name: string;
  /**
   * Default 'quorum' (replicated on a majority of the cluster's nodes, what staging clusters
   * should use); 'stream' is an append-only replicated log that consumers read from an offset.
   */
  readonly type?: QueueType;
  /** Default true; quorum queues and streams are always durable. */
  readonly durable?: boolean;
  /** Topic patterns: `members.#`, `chat.message-sent`, `*.member-deleted`. */
  readonly bindings: readonly string[];
  /** Extra x-arguments (x-max-length, x-overflow, …). */
  readonly arguments?: Readonly<Record<string, unknown>>;
}

export const QUEUE_TYPES = ['classic', 'quorum', 'stream'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

export interface Topology {
  readonly queues: readonly QueueSpec[];
}

export async function loadTopology(file: string): Promise<Topology> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw invalid(file, `cannot be read as JSON: ${messageOf(err)}`);
  }
  return checkTopology(data, file);
}

export function checkTopology(data: unknown, file: string): Topology {
  const queues = (data as { queues?: unknown })?.queues;
  if (!Array.isArray(queues) || queues.length === 0) throw invalid(file, 'must be an object with a non-empty "queues" array');
  const names = new Set<string>();
  queues.forEach((q: Partial<QueueSpec>, i) => {
    const where = `queues[${i}]`;
    if (typeof q?.name !== 'string' || q.name === '' || q.name.startsWith('amq.')) throw invalid(file, `${where}.name must be a queue name (not empty, not amq.*)`);
    if (names.has(q.name)) throw invalid(file, `${where}: queue '${q.name}' is listed twice`);
    names.add(q.name);
    if (q.type !== undefined && !QUEUE_TYPES.includes(q.type)) throw invalid(file, `${where}.type must be one of ${QUEUE_TYPES.join(', ')}, got ${JSON.stringify(q.type)}`);
    if ((q.type ?? 'quorum') !== 'classic' && q.durable === false) throw invalid(file, `${where}: a ${q.type ?? 'quorum'} queue is always durable; drop "durable": false or use "type": "classic"`);
    if (!Array.isArray(q.bindings) || q.bindings.length === 0 || !q.bindings.every((b) => typeof b === 'string' && b !== '')) {
      throw invalid(file, `${where}.bindings must be a non-empty array of routing-key patterns like "members.#"`);
    }
    if (q.arguments !== undefined && (typeof q.arguments !== 'object' || q.arguments === null)) throw invalid(file, `${where}.arguments must be an object`);
  });
  return { queues: queues as QueueSpec[] };
}

/**
 * Declares the exchange (durable topic, as seed does), every queue and its bindings, on a
 * connection of its own. Idempotent: running it again changes nothing; a queue that exists
 * with other settings is BROKER_REFUSED naming it.
 */
export async function declareTopology(url: string, exchange: string, topology: Topology): Promise<{ queues: number; bindings: number }> {
  const { connection } = await connectFirst(parseUrls(url), 'seedline topology');
  let bindings = 0;
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined); // the failing operation rejects with the reason
    try {
      await channel.assertExchange(exchange, 'topic', { durable: true });
    } catch (err) {
      throw operationError(err, `declare the durable topic exchange '${exchange}'`, exchange);
    }
    for (const q of topology.queues) {
      const type = q.type ?? 'quorum';
      try {
        await channel.assertQueue(q.name, { durable: type === 'classic' ? (q.durable ?? true) : true, arguments: { ...q.arguments, 'x-queue-type': type } });
      } catch (err) {
        throw new SeedlineError('BROKER_REFUSED', `RabbitMQ refused to declare queue '${q.name}' (${type}): ${messageOf(err)}`, {
          option: '--topology',
          hint: `a queue '${q.name}' probably exists with other settings; delete it or change the topology file`,
        });
      }
      for (const pattern of q.bindings) {
        await channel.bindQueue(q.name, exchange, pattern);
        bindings++;
      }
    }
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
  return { queues: topology.queues.length, bindings };
}

/** Deletes the topology's queues (tests, tearing staging down). */
export async function deleteTopology(url: string, topology: Topology): Promise<void> {
  const { connection } = await connectFirst(parseUrls(url), 'seedline topology');
  try {
    const channel = await connection.createChannel();
    for (const q of topology.queues) await channel.deleteQueue(q.name);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

function invalid(file: string, what: string): SeedlineError {
  return new SeedlineError('CONFIG_INVALID', `topology file ${file} ${what}`, { file, option: '--topology', hint: 'see seeder/topology.example.json' });
}
