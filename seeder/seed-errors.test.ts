import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeedlineError } from '../common/errors.ts';
import { ENVELOPE_PROTO, ENVELOPE_TYPE } from '../common/protos.ts';
import { VERSION } from '../common/version.ts';
import { DatasetWriter } from '../recordfile/index.ts';
import type { OutgoingMessage } from './broker/message.ts';
import { Pace } from './pacing/pace.ts';
import { seed } from './seed.ts';
import { SeedFailure } from './summary.ts';
import { declareOtherExchange, deleteExchange, makeEvents, removeDataset, uniqueName, writeEventsDataset } from './test-helpers.ts';

/** The error `promise` rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<SeedlineError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SeedlineError);
  return err as SeedlineError;
}

describe('seed: bad input gives one clear error', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await writeEventsDataset(await makeEvents(10));
  });
  afterAll(async () => {
    await removeDataset(dir);
  });

  it('a broker that refuses the connection: BROKER_CONNECT with a hint', async () => {
    const err = await failure(seed({ events: dir, url: 'amqp://guest:guest@127.0.0.1:1', progress: 'off' }));
    expect(err.code).toBe('BROKER_CONNECT');
    expect(err.hint).toMatch(/RabbitMQ/);
  });

  it('wrong credentials: BROKER_CONNECT, and the password is never printed', async () => {
    const err = await failure(seed({ events: dir, url: 'amqp://guest:s3cret-pw@127.0.0.1:5672', progress: 'off' }));
    expect(err.code).toBe('BROKER_CONNECT');
    expect(err.message).toMatch(/ACCESS_REFUSED/);
    expect(`${err.message} ${err.hint}`).not.toContain('s3cret-pw');
  });

  it('a malformed URL is a USAGE error', async () => {
    const err = await failure(seed({ events: dir, url: 'http://guest:pw@127.0.0.1:5672', progress: 'off' }));
    expect(err.code).toBe('USAGE');
    expect(err.message).not.toContain(':pw@');
  });

  it('an exchange that exists with another type: BROKER_REFUSED naming it', async () => {
    const exchange = uniqueName('seedline-t');
    await declareOtherExchange(exchange, 'fanout');
    try {
      const err = await failure(seed({ events: dir, exchange, progress: 'off' }));
      expect(err.code).toBe('BROKER_REFUSED');
      expect(err.message).toContain(exchange);
      expect(err.message).toContain('fanout');
    } finally {
      await deleteExchange(exchange);
    }
  });

  it('a directory that is not a data set: MANIFEST_INVALID', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'seedline-seed-'));
    try {
      const err = await failure(seed({ events: empty, progress: 'off' }));
      expect(err.code).toBe('MANIFEST_INVALID');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('a data set without an events stream, or an unfinished one: MANIFEST_INVALID', async () => {
    const base = await mkdtemp(join(tmpdir(), 'seedline-seed-'));
    try {
      const writer = await DatasetWriter.create(join(base, 'ds'), { tool: 'seedline', version: VERSION, stage: 'test', startedAt: new Date().toISOString() });
      expect((await failure(seed({ events: join(base, 'ds'), progress: 'off' }))).code).toBe('MANIFEST_INVALID');
      const stream = writer.streamWriter('events', { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO });
      await stream.write(Buffer.from([]));
      // Never closed: the transform "crashed" half way, the stream is declared but incomplete.
      expect((await failure(seed({ events: join(base, 'ds'), progress: 'off' }))).code).toBe('MANIFEST_INVALID');
      await stream.abort();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('a corrupt part fails with CORRUPT_RECORD_FILE or CHECKSUM_MISMATCH, not silently', async () => {
    const copy = await writeEventsDataset(await makeEvents(5));
    const exchange = uniqueName('seedline-t');
    try {
      await writeFile(join(copy, 'events', 'part-00000.pb.gz'), Buffer.from('not gzip at all'));
      const err = await failure(seed({ events: copy, exchange, progress: 'off' }));
      expect(['CORRUPT_RECORD_FILE', 'CHECKSUM_MISMATCH']).toContain(err.code);
    } finally {
      await removeDataset(copy);
      await deleteExchange(exchange);
    }
  });

  it('an exchange deleted in the middle of a run: BROKER_REFUSED with the counts so far', async () => {
    const slow = await writeEventsDataset(await makeEvents(200));
    const exchange = uniqueName('seedline-t');
    try {
      // The run pauses itself after its 20th event; the exchange is deleted while it stands
      // still, then it resumes. A condition, not a clock: the run cannot finish first, however
      // busy the machine (it did under load when the deletion raced a 0.5 s run).
      let deleted: Promise<void> | null = null;
      const pace = new (class extends Pace {
        override sent(message: OutgoingMessage): number {
          const due = super.sent(message);
          if (this.meter.published === 20) {
            this.pause('control');
            deleted = deleteExchange(exchange).then(() => this.resume('control'));
          }
          return due;
        }
      })();
      // A small window: after the resume the run must wait for confirms that never come.
      const err = await failure(seed({ events: slow, exchange, pace, maxInFlight: 10, progress: 'off' }));
      expect(deleted).not.toBeNull();
      await deleted;
      expect(err.code).toBe('BROKER_REFUSED');
      expect(err).toBeInstanceOf(SeedFailure);
      const { result } = err as SeedFailure;
      expect(result.published).toBeGreaterThanOrEqual(20);
      expect(result.published).toBeLessThanOrEqual(30);
    } finally {
      await removeDataset(slow);
      await deleteExchange(exchange);
    }
  });

  it('refuses a rate or window that makes no sense: USAGE', async () => {
    expect((await failure(seed({ events: dir, rate: 0, progress: 'off' }))).code).toBe('USAGE');
    expect((await failure(seed({ events: dir, maxInFlight: 0, progress: 'off' }))).code).toBe('USAGE');
    expect((await failure(seed({ events: dir, exchange: 'amq.topic', progress: 'off' }))).code).toBe('USAGE');
  });
});
