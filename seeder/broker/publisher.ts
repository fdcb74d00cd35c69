import type { ConfirmChannel, Message } from 'amqplib';
import { SeedlineError, messageOf } from '../../common/errors.ts';
import type { OutgoingMessage } from './message.ts';

/** How often, and how patiently, an event the broker nacked is published again. */
export interface RetryPolicy {
  /** Publishes after the first nack before giving up. */
  readonly attempts: number;
  /** Delay before the first retry; doubles with every attempt up to `maxMs`. */
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * ~26 s of retries (0.1, 0.2, 0.4 … 5 s): a quorum queue whose leader was on a lost node nacks
 * publishes until a new leader is elected, several seconds under load; a queue that keeps
 * rejecting (x-overflow reject-publish) still fails the run within half a minute. (The earlier 5
 * attempts, ~3 s, lost seeders in seeder/cluster.test.ts; at least some of those were the stale
 * channel of RENEW_AFTER_NACKS, which no number of retries on one channel cures.)
 */
export const DEFAULT_NACK_RETRY: RetryPolicy = { attempts: 10, baseMs: 100, maxMs: 5_000 };

/**
 * Nacks of one event on one channel after which its next retry goes out on a new channel
 * (`onRenew`). RabbitMQ 3.10 sets a channel's quorum queue client up at its first publish to the
 * queue, from the leader the queue record names then; a channel opened after a kill -9 of that
 * leader, before the survivors elected a new one, nacks every publish to the queue for as long as
 * it lives (its client keeps asking the dead node). A new channel reads the record again.
 */
export const RENEW_AFTER_NACKS = 2;

/** The delay before retry number `attempt` (1-based): exponential, capped. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Hears of every event's first ack (with its intended send time) and of every nack: the meter. */
export interface ConfirmObserver {
  onAck(intendedAt: number): void;
  onNack(): void;
}

/**
 * One place of the window: the event it carries until the contiguously confirmed mark passes
 * it. The message object is the slot's own, filled again for each event it carries.
 */
interface Slot<M> {
  readonly message: M;
  /** Sequence number of the event it carries (valid while `seq >= head`). */
  seq: number;
  /** Index of the event in the events stream. */
  position: number;
  /** The event's intended send time (performance clock, ms), for the latency. */
  intendedAt: number;
  acked: boolean;
  nacks: number;
  /** Nacks of this event on the current channel. */
  nacksHere: number;
  /** The event's key ('' = none): in key order mode no later event of the key is sent while it is unconfirmed. */
  key: string;
}

/**
 * Publishes over a confirm channel with a bounded window, tracking every message by its
 * sequence number so it always knows the lowest unconfirmed event: everything before it is
 * confirmed ("contiguously confirmed"), which is what a checkpoint records and where a
 * reconnect continues from.
 *
 * - Per event: `ready(key)` (a promise only when the window is full, the socket buffer is full —
 *   then it waits for 'drain' —, the connection is being re-established, a checkpoint must
 *   catch up, or — in key order mode — an earlier event of the same key is not confirmed yet),
 *   then fill `nextMessage()` and `publishNext()`. No allocation per event: the slots'
 *   messages are reused, and each slot has one confirm callback per channel.
 * - Key order mode (from the first nack on, or from the start with `keyOrder: 'strict'`): at
 *   most one unconfirmed event per key, so a nacked event (a full `reject-publish` queue) is
 *   retried before anything later of its key is sent: nacks cannot reorder a key, and cost no
 *   duplicates. Events still go out in stream order: a key seen again while its previous event
 *   is unconfirmed holds the publisher until that confirm comes — on real data, where a
 *   member's events cluster, that is several times slower, hence not the default before a
 *   nack (seeder/README.md). Later events of a key that the broker accepted while an earlier
 *   one was nacked (sent before the first nack) are counted in `overtaken`.
 * - A nack is retried with exponential backoff, `RetryPolicy.attempts` times; then the run fails.
 *   An event nacked `RENEW_AFTER_NACKS` times on one channel is retried on a new one
 *   (`onRenew`): publishing pauses until every publish on the old channel has its ack or nack, so
 *   what is unconfirmed then was nacked, and sending it again on the new channel duplicates nothing.
 * - `detach()` (connection lost) / `attach(channel)` (reconnected): on attach, every event
 *   from the lowest unconfirmed one on that the broker has not acked is published again, in
 *   order — the only duplicates.
 * - With a checkpoint (`durableGate`), the window also counts events confirmed but not yet
 *   written to the checkpoint, so a crash republishes at most `maxInFlight` events.
 */
export class ConfirmPublisher<M extends OutgoingMessage = OutgoingMessage> {
  /** Events published (each counted once, however often it was sent). */
  published = 0;
  /** Events the broker acked (each counted once). */
  confirmed = 0;
  /** Nacks received (an event nacked twice counts twice). */
  nacked = 0;
  /** Publishes repeated after a nack. */
  retried = 0;
  /** Publishes repeated after a reconnect: these may have reached the broker twice. */
  republished = 0;
  /** Unroutable messages the broker returned (basic.return, `mandatory`), by routing key. */
  readonly returned = new Map<string, number>();
  /** Why the run cannot go on (channel refused, retries exhausted, reconnect gave up). */
  failure: SeedlineError | null = null;
  /** Called whenever the contiguously confirmed mark moves (cheap; may be called often). */
  onAdvance: (() => void) | null = null;
  /** Called when the first nack switches key order mode on (for a line in the log). */
  onKeyOrder: (() => void) | null = null;
  /** Told of each event's first ack and of every nack (the meter). */
  observer: ConfirmObserver | null = null;
  /**
   * Opens a new channel on the same connection and hands it to `attach(channel, true)` (the
   * link); without it, a nacked event is retried on the same channel however often it was nacked.
   */
  onRenew: (() => void) | null = null;

  private channel: ConfirmChannel | null = null;
  /** Bumped on every attach/detach: confirms from an older channel are ignored. */
  private generation = 0;
  private writable = true;
  /** Publishes on the current channel still waiting for their ack or nack. */
  private outstanding = 0;
  /** A new channel was asked for: nothing more is sent on this one. */
  private renewing = false;
  /** Sequence number of the lowest unconfirmed event; everything before it is confirmed. */
  private head = 0;
  /** Sequence number the next new event gets. */
  private tail = 0;
  /** With a checkpoint: sequence number up to which the checkpoint on disk covers. */
  private durable: number | null = null;
  /** Stream position after the last event sent or skipped. */
  private nextPosition: number;
  private readonly slots: Slot<M>[];
  /** Per slot, the confirm callback for the current channel (made anew on attach). */
  private callbacks: Array<(err: unknown) => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Events confirmed while an earlier event of their key was nacked and not yet confirmed. */
  overtaken = 0;
  /** At most one unconfirmed event per key: from the start ('strict') or since the first nack. */
  keyOrder: boolean;
  /** Key → how many of its events are unconfirmed. */
  private readonly unconfirmedKeys = new Map<string, number>();
  /** Key → sequence numbers of its nacked events not confirmed yet (keys with nacks only). */
  private readonly nackedKeys = new Map<string, number[]>();
  /** The key a waiting `ready(key)` is held by (null: any confirm may make room). */
  private awaitedKey: string | null = null;
  private wake: (() => void) | null = null;
  private interrupted = false;

  constructor(
    private readonly exchange: string,
    private readonly maxInFlight: number,
    newMessage: () => M,
    private readonly nackRetry: RetryPolicy = DEFAULT_NACK_RETRY,
    startPosition = 0,
    keyOrder: 'adaptive' | 'strict' = 'adaptive',
  ) {
    this.keyOrder = keyOrder === 'strict';
    this.slots = Array.from({ length: maxInFlight }, () => ({ message: newMessage(), seq: -1, position: 0, intendedAt: 0, acked: false, nacks: 0, nacksHere: 0, key: '' }));
    this.nextPosition = startPosition;
  }

  /**
   * Publishes on `channel` from now on and sends again what the previous channel left unacked:
   * after a lost connection, events the broker may have taken (`republished`, possible
   * duplicates); after `onRenew` (`renewed`), nacked events only (`retried`).
   */
  attach(channel: ConfirmChannel, renewed = false): void {
    this.channel = channel;
    const generation = ++this.generation;
    this.writable = true;
    this.outstanding = 0;
    this.renewing = false;
    for (const slot of this.slots) slot.nacksHere = 0;
    // One callback per slot and channel: a confirm names its slot, and one of an older channel
    // (its generation) is ignored. A slot has at most one publish awaiting a confirm per channel.
    this.callbacks = this.slots.map((_, index) => (err: unknown) => this.onConfirm(index, generation, err));
    channel.on('return', (msg: Message) => {
      const key = msg.fields.routingKey;
      this.returned.set(key, (this.returned.get(key) ?? 0) + 1);
    });
    channel.on('drain', () => {
      this.writable = true;
      this.notify();
    });
    for (let seq = this.head; seq < this.tail && !this.failure; seq++) {
      // An acked event is the broker's: sending it again could only duplicate it.
      if (this.slots[seq % this.maxInFlight]!.acked) continue;
      if (renewed) this.retried++;
      else this.republished++;
      this.publish(seq);
    }
    this.notify();
  }

  /** The channel is gone (connection lost): hold everything until `attach()`. */
  detach(): void {
    this.channel = null;
    this.generation++;
    this.outstanding = 0;
    this.renewing = false;
    this.notify();
  }

  /** Makes the window also wait for the checkpoint (see `markDurable`). */
  durableGate(): void {
    this.durable = this.head;
  }

  /** The checkpoint now covers everything before sequence number `seq`. */
  markDurable(seq: number): void {
    if (this.durable !== null && seq > this.durable) {
      this.durable = seq;
      this.notify();
    }
  }

  /** Sequence number of the lowest unconfirmed event (a checkpoint pairs it with `safePosition`). */
  get confirmedSeq(): number {
    return this.head;
  }

  /** Events sent whose confirm has not come yet, or that follow one whose confirm has not. */
  get inFlight(): number {
    return this.tail - this.head;
  }

  /** Events in the window the broker has not acked (what a failed run leaves unconfirmed). */
  get unconfirmed(): number {
    let n = 0;
    for (let seq = this.head; seq < this.tail; seq++) if (!this.slots[seq % this.maxInFlight]!.acked) n++;
    return n;
  }

  /** Every event of the stream before this position is confirmed (or was skipped). */
  get safePosition(): number {
    return this.tail > this.head ? this.slots[this.head % this.maxInFlight]!.position : this.nextPosition;
  }

  get returnedTotal(): number {
    let n = 0;
    for (const v of this.returned.values()) n += v;
    return n;
  }

  /** Records that every event before `position` was handled (published or deliberately skipped). */
  skipTo(position: number): void {
    if (position > this.nextPosition) this.nextPosition = position;
  }

  /** Stops the run with `error` (the first reason wins); wakes anyone waiting. */
  fail(error: SeedlineError): void {
    this.failure ??= error;
    this.notify();
  }

  /**
   * Resolves when the next event may be published: undefined when it may now (the common
   * case: no promise, no microtask per event); otherwise a promise of true once it may, or
   * false when the run was interrupted meanwhile (publish nothing then). Throws the run's
   * failure.
   */
  ready(key = ''): Promise<boolean> | undefined {
    if (this.canPublish(key)) return undefined;
    return this.waitForRoom(key);
  }

  /** The message object to fill for the next event; only valid right after `ready()` said so. */
  nextMessage(): M {
    return this.slots[this.tail % this.maxInFlight]!.message;
  }

  /**
   * Publishes `nextMessage()` (filled) as the event at stream `position`, intended to be sent
   * at `intendedAt` (performance clock, ms: where its confirm latency starts).
   */
  publishNext(position: number, intendedAt: number, key = ''): void {
    const seq = this.tail++;
    const slot = this.slots[seq % this.maxInFlight]!;
    slot.seq = seq;
    slot.position = position;
    slot.intendedAt = intendedAt;
    slot.acked = false;
    slot.nacks = 0;
    slot.nacksHere = 0;
    slot.key = key;
    if (key !== '') this.unconfirmedKeys.set(key, (this.unconfirmedKeys.get(key) ?? 0) + 1);
    this.published++;
    this.nextPosition = position + 1;
    this.publish(seq);
  }

  /** Ctrl-C: a `ready()` that is waiting gives up without publishing (confirms are still awaited). */
  interrupt(): void {
    this.interrupted = true;
    this.notify();
  }

  /** Waits until every published event is confirmed (or the run failed). */
  async settle(): Promise<void> {
    while (this.tail > this.head && !this.failure) await this.nextChange();
  }

  /** Cancels pending retries (the run is over). */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private canPublish(key: string): boolean {
    const base = this.durable ?? this.head;
    return this.channel !== null && this.writable && !this.renewing && this.failure === null && this.tail - base < this.maxInFlight && !(this.keyOrder && key !== '' && this.unconfirmedKeys.has(key));
  }

  private async waitForRoom(key: string): Promise<boolean> {
    try {
      while (!this.canPublish(key)) {
        if (this.failure) throw this.failure;
        if (this.interrupted) return false;
        // Held by its key: only that key's confirm can let it go, so the others need not wake
        // it (hundreds of them may come first: a wake each cost ~3 µs per event in the bench).
        this.awaitedKey = this.keyOrder && key !== '' && this.unconfirmedKeys.has(key) ? key : null;
        await this.nextChange();
      }
      return true;
    } finally {
      this.awaitedKey = null;
    }
  }

  private publish(seq: number): void {
    const channel = this.channel;
    if (!channel) return;
    const index = seq % this.maxInFlight;
    const message = this.slots[index]!.message;
    let ok: boolean;
    try {
      ok = channel.publish(this.exchange, message.routingKey, message.content, message.options, this.callbacks[index]);
    } catch (err) {
      // amqplib throws synchronously when the channel is closed: the close handler will
      // detach and reconnect; the event stays in the window and is sent again then.
      if (/closed|closing/i.test(messageOf(err))) return;
      this.fail(new SeedlineError('PUBLISH_FAILED', `publishing to exchange '${this.exchange}' failed: ${messageOf(err)}`, {}, { cause: err }));
      return;
    }
    this.outstanding++;
    if (!ok) this.writable = false;
  }

  private onConfirm(index: number, generation: number, err: unknown): void {
    // A closing channel calls back every unconfirmed message with an error: not a verdict of
    // the broker. Those events are republished on the next channel.
    if (generation !== this.generation) return;
    this.outstanding--;
    this.verdict(index, err);
    if (this.renewing && this.outstanding === 0) this.renew();
  }

  private verdict(index: number, err: unknown): void {
    const slot = this.slots[index]!;
    const seq = slot.seq;
    if (seq < this.head) return;
    if (err == null) {
      if (slot.acked) return;
      slot.acked = true;
      this.confirmed++;
      if (slot.key !== '') this.keyConfirmed(slot.key, seq);
      this.observer?.onAck(slot.intendedAt);
      if (seq === this.head) this.advance();
      if (this.awaitedKey !== null && slot.key !== this.awaitedKey) return;
    } else if (messageOf(err) === 'message nacked') {
      // From now on this broker is known to refuse: keep each key in order.
      if (!this.keyOrder) {
        this.keyOrder = true;
        this.onKeyOrder?.();
      }
      if (slot.key !== '') this.nackedKeys.set(slot.key, [...(this.nackedKeys.get(slot.key) ?? []).filter((s) => s !== seq), seq]);
      this.nacked++;
      this.observer?.onNack();
      this.retryLater(seq, slot);
    } else {
      return;
    }
    this.notify();
  }

  private keyConfirmed(key: string, seq: number): void {
    const left = (this.unconfirmedKeys.get(key) ?? 1) - 1;
    if (left > 0) this.unconfirmedKeys.set(key, left);
    else this.unconfirmedKeys.delete(key);
    const nacked = this.nackedKeys.get(key);
    if (nacked === undefined) return;
    const pending = nacked.filter((s) => s !== seq);
    if (pending.some((s) => s < seq)) this.overtaken++;
    if (pending.length > 0) this.nackedKeys.set(key, pending);
    else this.nackedKeys.delete(key);
  }

  private advance(): void {
    while (this.head < this.tail) {
      const slot = this.slots[this.head % this.maxInFlight]!;
      if (!slot.acked) break;
      this.head++;
    }
    this.onAdvance?.();
  }

  private retryLater(seq: number, slot: Slot<M>): void {
    slot.nacks++;
    slot.nacksHere++;
    if (slot.nacks > this.nackRetry.attempts) {
      const id = slot.message.options.messageId ?? '?';
      this.fail(
        new SeedlineError('PUBLISH_FAILED', `RabbitMQ rejected event ${id} (position ${slot.position}) ${slot.nacks} times (nack)`, {
          hint: 'a nack means the broker could not take the message: check queue length limits (x-overflow reject-publish) and the broker log, then run seed --resume',
        }),
      );
      return;
    }
    const generation = this.generation;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      // After a reconnect the whole window was republished already.
      // A renewal under way sends it on the new channel.
      if (generation !== this.generation || this.failure || seq < this.head || this.renewing) return;
      if (slot.nacksHere >= RENEW_AFTER_NACKS && this.onRenew) {
        this.renewing = true;
        if (this.outstanding === 0) this.renew();
        return;
      }
      this.retried++;
      this.publish(seq);
    }, backoffMs(this.nackRetry, slot.nacks));
    this.timers.add(timer);
  }

  /** Every publish on the old channel has its verdict: the link opens the new one. */
  private renew(): void {
    this.onRenew?.();
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
    if (wake === null) return;
    this.wake = null;
    wake();
  }
}
