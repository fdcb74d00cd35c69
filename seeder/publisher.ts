import type { ConfirmChannel, Message } from 'amqplib';
import { SeedlineError, messageOf } from '../common/errors.ts';
import type { OutgoingMessage } from './message.ts';

/**
 * Publishes over one confirm channel with a bounded window of unconfirmed messages.
 * Every publish carries a callback, so each message's confirm (ack or nack) is counted as
 * it arrives; `send()` only awaits when the window is full or the socket buffer is (then
 * it waits for 'drain'), and both waits end early if the channel closes.
 */
export class ConfirmPublisher {
  published = 0;
  confirmed = 0;
  nacked = 0;
  /** Messages whose confirm never came because the channel closed. */
  lost = 0;
  /** Unroutable messages the broker returned (basic.return, `mandatory`), by routing key. */
  readonly returned = new Map<string, number>();
  /** Why the channel or connection closed under us, if it did. */
  failure: SeedlineError | null = null;
  /** Resolved (and replaced) whenever a confirm arrives, the channel drains or closes. */
  private wake: (() => void) | null = null;
  private writable = true;

  private readonly channel: ConfirmChannel;
  private readonly exchange: string;
  private readonly maxInFlight: number;
  private readonly onConfirm = (err: unknown): void => {
    // amqplib calls back with 'message nacked' for a nack and 'channel closed' for messages
    // still unconfirmed when the channel closes: only the first is a broker's verdict.
    if (err == null) this.confirmed++;
    else if (messageOf(err) === 'message nacked') this.nacked++;
    else this.lost++;
    this.notify();
  };

  constructor(channel: ConfirmChannel, exchange: string, maxInFlight: number) {
    this.channel = channel;
    this.exchange = exchange;
    this.maxInFlight = maxInFlight;
    channel.on('return', (msg: Message) => {
      const key = msg.fields.routingKey;
      this.returned.set(key, (this.returned.get(key) ?? 0) + 1);
    });
    channel.on('drain', () => {
      this.writable = true;
      this.notify();
    });
  }

  get inFlight(): number {
    return this.published - this.confirmed - this.nacked - this.lost;
  }

  get returnedTotal(): number {
    let n = 0;
    for (const v of this.returned.values()) n += v;
    return n;
  }

  /** Called by the owner when the channel or connection closes or errors. */
  fail(error: SeedlineError): void {
    this.failure ??= error;
    this.notify();
  }

  /**
   * Publishes one message. Returns nothing when there was room (the common case: no promise,
   * no microtask per event); otherwise a promise that publishes once the window has room and
   * the socket buffer has drained.
   */
  send(message: OutgoingMessage): Promise<void> | undefined {
    if (this.inFlight >= this.maxInFlight || !this.writable || this.failure) return this.sendLater(message);
    this.publishNow(message);
    return undefined;
  }

  private async sendLater(message: OutgoingMessage): Promise<void> {
    while (this.inFlight >= this.maxInFlight || !this.writable) {
      this.throwIfFailed();
      await this.nextChange();
    }
    this.publishNow(message);
  }

  private publishNow(message: OutgoingMessage): void {
    this.throwIfFailed();
    this.published++;
    let ok: boolean;
    try {
      ok = this.channel.publish(this.exchange, message.routingKey, message.content, message.options, this.onConfirm);
    } catch (err) {
      // amqplib throws synchronously when the channel is already closed.
      this.published--;
      this.throwIfFailed();
      throw new SeedlineError('PUBLISH_FAILED', `publishing to exchange '${this.exchange}' failed: ${messageOf(err)}`, {}, { cause: err });
    }
    if (!ok) this.writable = false;
  }

  /** Waits until every published message is confirmed or nacked (or the channel fails). */
  async settle(): Promise<void> {
    while (this.inFlight > 0 && !this.failure) await this.nextChange();
    if (this.inFlight === 0 && !this.failure) {
      // Belt and braces: amqplib's own view of the window must be empty too. A nack makes
      // it reject; nacks are counted already.
      await this.channel.waitForConfirms().catch(() => undefined);
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private nextChange(): Promise<void> {
    return new Promise((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
