import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointWriter, readCheckpoint, type CheckpointKey } from './checkpoint.ts';
import type { ConfirmPublisher } from './broker/publisher.ts';

/** The part of ConfirmPublisher a CheckpointWriter uses: the confirmed mark, moved by hand. */
class FakePublisher {
  confirmedSeq = 0;
  onAdvance: (() => void) | null = null;
  /** Every markDurable(seq): one per finished write. */
  readonly durable: number[] = [];
  failure: unknown = null;
  get safePosition(): number {
    return this.confirmedSeq;
  }
  durableGate(): void {}
  markDurable(seq: number): void {
    this.durable.push(seq);
  }
  fail(error: unknown): void {
    this.failure = error;
  }
  /** Moves the mark one event at a time, as acks do (each calls onAdvance). */
  advanceTo(seq: number): void {
    while (this.confirmedSeq < seq) {
      this.confirmedSeq++;
      this.onAdvance?.();
    }
  }
}

const KEY: CheckpointKey = { events: '/tmp/events', dataset: 'ab'.repeat(32), exchange: 'x', url: 'amqp://guest:***@127.0.0.1:5672', runId: 'run-c1', total: 100 };

/** Polls (real time: a loaded machine may take a while for a write) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  expect(condition()).toBe(true);
}

/** Until no write runs and none follows (the writer decides on the next one as a write ends). */
async function idle(writer: CheckpointWriter): Promise<void> {
  await until(() => (writer as unknown as { writing: Promise<void> | null }).writing === null);
}

describe('CheckpointWriter', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seedline-checkpoint-'));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes once per step of the confirmed mark, not again for the few events confirmed during a write', async () => {
    const publisher = new FakePublisher();
    const file = join(dir, 'cp.json');
    const writer = new CheckpointWriter(file, KEY, publisher as unknown as ConfirmPublisher, 10);
    await writer.flush();
    expect(publisher.durable).toEqual([0]);

    publisher.advanceTo(10); // a write starts at 10 ...
    publisher.advanceTo(13); // ... and fine-grained acks move the mark while it runs
    await idle(writer);
    expect(publisher.durable).toEqual([0, 10]); // 13 is < 10 past the write: no write for it

    publisher.advanceTo(19);
    await idle(writer);
    expect(publisher.durable).toEqual([0, 10]);
    publisher.advanceTo(20);
    await idle(writer);
    expect(publisher.durable).toEqual([0, 10, 20]);

    // A step passed while a write ran: the next write follows it at once.
    publisher.advanceTo(30);
    publisher.advanceTo(41);
    await until(() => publisher.durable.length === 5);
    await idle(writer);
    expect(publisher.durable).toEqual([0, 10, 20, 30, 41]);

    await writer.finish();
    expect((await readCheckpoint(file))?.position).toBe(41);
  });

  it('still writes what the one-second timer asked for while a write was running', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const publisher = new FakePublisher();
    const file = join(dir, 'cp.json');
    const writer = new CheckpointWriter(file, KEY, publisher as unknown as ConfirmPublisher, 10);
    await writer.flush();

    publisher.advanceTo(10); // a write starts at 10
    publisher.advanceTo(12);
    vi.advanceTimersByTime(1_000); // the timer fires during it
    await until(() => publisher.durable.length === 3);
    await idle(writer);
    expect(publisher.durable).toEqual([0, 10, 12]);
    expect((await readCheckpoint(file))?.position).toBe(12);

    // Nothing moved: the timer does not write.
    vi.advanceTimersByTime(1_000);
    await idle(writer);
    expect(publisher.durable).toEqual([0, 10, 12]);
    publisher.advanceTo(13);
    vi.advanceTimersByTime(1_000);
    await until(() => publisher.durable.length === 4);
    expect(publisher.durable).toEqual([0, 10, 12, 13]);
    await writer.finish();
    expect(publisher.failure).toBeNull();
  });
});
