import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { SeedlineError, isSeedlineError, messageOf } from '../../common/errors.ts';
import { formatDuration } from '../../common/progress.ts';
import { connectFirst, declareExchange, parseUrls, redactUrl } from './broker.ts';
import { backoffMs, type ConfirmPublisher, type RetryPolicy } from './publisher.ts';

/** How long to keep trying to get the connection back after it was lost. */
export interface ReconnectPolicy extends RetryPolicy {
  /** Give up when the broker has been unreachable this long (ms). */
  readonly withinMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = { attempts: 30, baseMs: 250, maxMs: 5_000, withinMs: 120_000 };

/** Why publishing is paused: the broker's alarm, or no connection. */
export type PauseKind = 'blocked' | 'reconnecting';

export interface LinkListener {
  paused(kind: PauseKind, reason: string): void;
  resumed(kind: PauseKind): void;
  /** A line worth keeping on screen (lost, reconnected, blocked, ...). */
  log(line: string): void;
}

interface Reconnecting {
  readonly since: number;
  attempt: number;
  nextAt: number;
  readonly reason: string;
  lastError: string;
}

/**
 * The dedicated publishing connection and its confirm channel, kept alive: when the
 * connection is lost (broker restart, network) it reconnects with exponential backoff within
 * `ReconnectPolicy` and hands the new channel to the publisher, which republishes from the
 * lowest unconfirmed event. `url` may list several nodes of one cluster (comma-separated):
 * it connects to `firstNode` (or the next that answers) and, when that connection is lost,
 * tries the other nodes first, each round of attempts going once round the list. A broker *refusal* on the channel (exchange deleted, access
 * refused) is not retried: it fails the run. When the publisher asks for it (`onRenew`: an event
 * nacked again and again on one channel) it opens a new channel on the same connection.
 */
export class BrokerLink {
  reconnects = 0;
  /** New channels opened on the same connection because the old one kept nacking. */
  renewals = 0;
  private lastRenewalLog = -Infinity;
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  private closing = false;
  private blocked = false;
  private reconnecting: Reconnecting | null = null;
  private readonly urls: readonly string[];
  /** Index in `urls` of the node connected to (or to try first). */
  private current: number;

  constructor(
    private readonly url: string,
    private readonly connectionName: string,
    private readonly exchange: string,
    private readonly publisher: ConfirmPublisher,
    private readonly listener: LinkListener,
    private readonly policy: ReconnectPolicy = DEFAULT_RECONNECT,
    private readonly signal?: AbortSignal,
    firstNode = 0,
  ) {
    this.urls = parseUrls(url);
    this.current = firstNode % this.urls.length;
    publisher.onRenew = () => void this.renew();
  }

  /** The node connected to (or tried next), password removed. */
  get where(): string {
    return redactUrl(this.urls[this.current]!);
  }

  /** The first connection: any failure is thrown as is (nothing was published yet). */
  async open(): Promise<void> {
    await this.connect();
  }

  /** For the progress line: '' when connected, else what the reconnect loop is doing. */
  status(): string {
    const r = this.reconnecting;
    if (!r) return this.blocked ? 'BLOCKED by the broker (memory/disk alarm)' : '';
    const wait = Math.max(0, (r.nextAt - performance.now()) / 1000);
    const left = Math.max(0, (this.policy.withinMs - (performance.now() - r.since)) / 1000);
    return `connection lost, reconnecting: attempt ${r.attempt}/${this.policy.attempts} in ${wait.toFixed(1)}s (gives up in ${formatDuration(left)})`;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.channel?.close().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const n = this.urls.length;
    const order = this.urls.map((_, i) => this.urls[(this.current + i) % n]!);
    const { connection, index } = await connectFirst(order, this.connectionName);
    this.current = (this.current + index) % n;
    try {
      const channel = await connection.createConfirmChannel();
      // A refused declare closes the channel with an 'error' event; the rejected promise reports it.
      channel.on('error', () => undefined);
      connection.on('error', () => undefined);
      await declareExchange(channel, this.exchange);
      this.wire(connection, channel);
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
  }

  private wire(connection: ChannelModel, channel: ConfirmChannel): void {
    this.connection = connection;
    connection.on('close', (err?: Error) => {
      if (connection === this.connection) this.lost(err ? messageOf(err) : 'the connection was closed');
    });
    // The broker's memory/disk alarm: it stops reading from our socket until the alarm clears.
    connection.on('blocked', (reason: string) => {
      this.blocked = true;
      this.listener.log(`seed: RabbitMQ blocked publishing (${reason}); paused`);
      this.listener.paused('blocked', reason);
    });
    connection.on('unblocked', () => this.unblock());
    this.wireChannel(channel, false);
  }

  private wireChannel(channel: ConfirmChannel, renewed: boolean): void {
    this.channel = channel;
    let refused = false;
    // A broker refusal closes the channel with an error first (exchange deleted, access refused).
    channel.on('error', (err: Error) => {
      if (channel !== this.channel) return;
      refused = true;
      this.publisher.fail(new SeedlineError('BROKER_REFUSED', `RabbitMQ closed the publishing channel: ${messageOf(err)}`, { option: '--exchange' }));
    });
    // Only the channel in use: one replaced by renew() is closed on purpose.
    channel.on('close', () => {
      if (!refused && channel === this.channel) this.lost('the publishing channel was closed');
    });
    this.publisher.attach(channel, renewed);
  }

  /**
   * A new channel on the same connection, for the publisher, whose events the old one kept
   * nacking: RabbitMQ 3.10 sets a channel's quorum queue client up once, from the leader the
   * queue record named at the channel's first publish to it; after a kill -9 of that leader, a
   * channel opened before the new leader was recorded keeps asking the dead node, and every
   * publish to the queue is nacked for as long as the channel lives (seeder/README.md).
   */
  private async renew(): Promise<void> {
    const { connection, channel: old } = this;
    if (!connection || !old || this.closing || this.reconnecting) return;
    let channel: ConfirmChannel;
    try {
      channel = await connection.createConfirmChannel();
    } catch (err) {
      if (connection === this.connection) this.lost(`could not open a new channel: ${messageOf(err)}`);
      return;
    }
    if (connection !== this.connection || old !== this.channel || this.closing) {
      void channel.close().catch(() => undefined);
      return;
    }
    this.renewals++;
    const now = performance.now();
    if (now - this.lastRenewalLog >= 10_000) {
      this.lastRenewalLog = now;
      this.listener.log(`seed: RabbitMQ nacked an event twice on the same channel; sending on a new channel at ${this.where} (${this.renewals} so far)`);
    }
    this.wireChannel(channel, true);
    void old.close().catch(() => undefined);
  }

  private unblock(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.listener.log('seed: RabbitMQ unblocked publishing; resuming');
    this.listener.resumed('blocked');
  }

  private lost(reason: string): void {
    if (this.closing || this.reconnecting || this.publisher.failure) return;
    this.unblock();
    const old = this.connection;
    this.connection = null;
    this.channel = null;
    void old?.close().catch(() => undefined);
    this.publisher.detach();
    this.reconnecting = { since: performance.now(), attempt: 0, nextAt: performance.now(), reason, lastError: reason };
    this.listener.log(`seed: lost the connection to RabbitMQ at ${this.where} (${reason}); ${this.urls.length > 1 ? 'failing over to the other nodes' : 'reconnecting'}`);
    // Another node of the cluster is the better bet than the one that just went away.
    this.current = (this.current + 1) % this.urls.length;
    this.listener.paused('reconnecting', reason);
    void this.reconnectLoop(this.reconnecting);
  }

  private async reconnectLoop(r: Reconnecting): Promise<void> {
    while (!this.closing) {
      if (this.signal?.aborted) {
        this.giveUp(new SeedlineError('INTERRUPTED', `interrupted while reconnecting to RabbitMQ at ${this.where}`));
        return;
      }
      const elapsed = performance.now() - r.since;
      if (r.attempt >= this.policy.attempts || elapsed >= this.policy.withinMs) {
        this.giveUp(
          new SeedlineError(
            'BROKER_CONNECT',
            `lost the connection to RabbitMQ at ${this.urls.length > 1 ? redactUrl(this.url) : this.where} (${r.reason}) and could not reconnect: ${r.attempt} attempts over ${formatDuration(elapsed / 1000)}, last error: ${r.lastError}`,
            { option: '--amqp-url', hint: 'start RabbitMQ again, then run seed --resume to continue from the checkpoint' },
          ),
        );
        return;
      }
      r.attempt++;
      const delay = Math.min(backoffMs(this.policy, r.attempt), Math.max(0, this.policy.withinMs - elapsed));
      r.nextAt = performance.now() + delay;
      await sleep(delay, this.signal);
      if (this.closing || this.signal?.aborted) continue;
      try {
        await this.connect();
      } catch (err) {
        if (isSeedlineError(err, 'BROKER_REFUSED')) {
          this.giveUp(err);
          return;
        }
        r.lastError = messageOf(err);
        continue;
      }
      this.reconnecting = null;
      this.reconnects++;
      this.listener.log(`seed: reconnected to RabbitMQ at ${this.where} after ${formatDuration((performance.now() - r.since) / 1000)} (attempt ${r.attempt}); continuing from the lowest unconfirmed event`);
      this.listener.resumed('reconnecting');
      return;
    }
  }

  private giveUp(error: SeedlineError): void {
    this.reconnecting = null;
    this.listener.resumed('reconnecting');
    this.publisher.fail(error);
  }
}

/** Resolves after `ms`, or at once when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
