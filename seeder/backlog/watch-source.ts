import type { Channel, ChannelModel } from 'amqplib';
import { messageOf } from '../../common/errors.ts';
import { connectFirst, parseUrls, redactUrl } from '../broker/broker.ts';

/**
 * Where the backlog watch reads queues from. Depth (messages ready) and consumers always come
 * from AMQP passive declares: exact at the moment asked, and they need nothing but the AMQP
 * port. The management HTTP API, when reachable, adds what AMQP cannot tell: which queues
 * are bound to the exchange, unacknowledged messages and the broker's publish/deliver/ack
 * rates (which the broker refreshes only every few seconds, hence not used for depth).
 * Both only read: nothing is published, purged or declared.
 */
export interface QueueReading {
  readonly ready: number;
  readonly consumers: number;
  /** From the management API only. */
  readonly unacked?: number;
  readonly publishRate?: number;
  readonly ackRate?: number;
}

export const DEFAULT_MANAGEMENT_PORT = 15672;

/** http://<the AMQP host>:15672 — where the management plugin listens by default. */
export function defaultManagementUrl(amqpUrl: string): string {
  try {
    return `http://${new URL(parseUrls(amqpUrl)[0]!).hostname}:${DEFAULT_MANAGEMENT_PORT}`;
  } catch {
    return `http://127.0.0.1:${DEFAULT_MANAGEMENT_PORT}`;
  }
}

/** The management API, with credentials kept out of every string it prints. */
export class ManagementApi {
  private readonly base: string;
  private readonly auth: string;
  private readonly vhost: string;
  readonly where: string;

  constructor(managementUrl: string, amqpUrl: string) {
    const m = new URL(managementUrl);
    const a = safeUrl(amqpUrl.split(',')[0]!.trim()); // a cluster's node list: the first node's user and vhost
    const user = decodeURIComponent(m.username || a?.username || 'guest');
    const password = decodeURIComponent(m.password || a?.password || 'guest');
    m.username = '';
    m.password = '';
    this.base = m.toString().replace(/\/$/, '');
    this.where = redactUrl(this.base);
    this.auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    this.vhost = encodeURIComponent(decodeURIComponent(a?.pathname.slice(1) ?? '') || '/');
  }

  /** Null when reachable and answering; otherwise why not (for the "falling back" line). */
  async unavailable(): Promise<string | null> {
    try {
      await this.get('/api/overview');
      return null;
    } catch (err) {
      return messageOf(err);
    }
  }

  /** Queues bound to the exchange (directly). */
  async boundQueues(exchange: string): Promise<string[]> {
    const bindings = (await this.get(`/api/exchanges/${this.vhost}/${encodeURIComponent(exchange)}/bindings/source`)) as Array<{ destination: string; destination_type: string }>;
    return [...new Set(bindings.filter((b) => b.destination_type === 'queue').map((b) => b.destination))];
  }

  /** Every queue of the vhost with its counts and rates (one request). */
  async queues(): Promise<Map<string, QueueReading>> {
    const columns = 'name,messages_ready,messages_unacknowledged,consumers,message_stats';
    const list = (await this.get(`/api/queues/${this.vhost}?columns=${columns}`)) as Array<{
      name: string;
      messages_ready?: number;
      messages_unacknowledged?: number;
      consumers?: number;
      message_stats?: { publish_details?: { rate: number }; ack_details?: { rate: number } };
    }>;
    return new Map(
      list.map((q) => [
        q.name,
        {
          ready: q.messages_ready ?? 0,
          consumers: q.consumers ?? 0,
          unacked: q.messages_unacknowledged ?? 0,
          publishRate: q.message_stats?.publish_details?.rate ?? 0,
          ackRate: q.message_stats?.ack_details?.rate ?? 0,
        },
      ]),
    );
  }

  private async get(path: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, { headers: { authorization: this.auth }, signal: AbortSignal.timeout(3000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new Error(`not reachable at ${this.where} (${cause ?? messageOf(err)})`);
    }
    if (response.status === 401) throw new Error(`${this.where} refused the user name or password (401)`);
    if (!response.ok) throw new Error(`${this.where}${path.split('?')[0]} answered ${response.status}`);
    return response.json();
  }
}

/**
 * Passive queue declares on a connection of its own; a missing queue reads as null. A lost
 * connection (broker restart) is opened again at the next read, so the watch outlives it.
 */
export class PassiveReader {
  private connection: ChannelModel | null;
  private channel: Channel | null = null;

  private constructor(
    private readonly url: string,
    private readonly name: string,
    connection: ChannelModel,
  ) {
    this.connection = this.adopt(connection);
  }

  /** `url` may list the nodes of a cluster (comma-separated): the first that answers is used, now and after a loss. */
  static async open(url: string, exchange: string): Promise<PassiveReader> {
    const name = `seedline watch ${exchange}`;
    return new PassiveReader(url, name, (await connectFirst(parseUrls(url), name)).connection);
  }

  async read(queue: string): Promise<QueueReading | null> {
    this.connection ??= this.adopt((await connectFirst(parseUrls(this.url), this.name)).connection);
    const channel = (this.channel ??= await this.newChannel(this.connection));
    try {
      const ok = await channel.checkQueue(queue);
      return { ready: ok.messageCount, consumers: ok.consumerCount };
    } catch (err) {
      this.channel = null; // a 404 closes the channel; the next read opens another
      if (!this.connection) throw err; // the connection went, not the queue
      return null;
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = null;
    await connection?.close().catch(() => undefined);
  }

  private adopt(connection: ChannelModel): ChannelModel {
    connection.on('error', () => undefined); // followed by 'close'
    connection.on('close', () => {
      if (this.connection === connection) {
        this.connection = null;
        this.channel = null;
      }
    });
    return connection;
  }

  private async newChannel(connection: ChannelModel): Promise<Channel> {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined); // a passive declare of a missing queue: handled in read()
    return channel;
  }
}

function safeUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
