import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelopeType, int64ToBigInt, loadProtos, lookupType, type EventEnvelope } from '../common/protos.ts';
import { DatasetWriter, decodeEvents } from '../recordfile/index.ts';
import { bigintToLong, EventEncoder } from './event-encoder.ts';
import { legacySchema, type MembersRow, type MessagesRow } from './legacy-rows.ts';
import { micros } from './legacy-time.ts';
import { MODULES } from './modules/index.ts';

/** Helpers for the transformer's tests: small dumps written with DatasetWriter, events read back. */

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'seedline-transform-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A legacy row object (MembersRow, MessagesRow, ...). */
type Row = object;

/** Writes a dump data set with one stream per table, rows given as legacy row objects (NULL = null). */
export async function writeDump(
  dir: string,
  tables: Readonly<Record<string, readonly Row[]>>,
  options: { maxPartBytes?: number } = {},
): Promise<void> {
  const writer = await DatasetWriter.create(dir, { tool: 'seedline', version: 'test', stage: 'test', startedAt: new Date(0).toISOString() });
  for (const [table, rows] of Object.entries(tables)) {
    const { file, messageType } = legacySchema(table);
    const type = lookupType(await loadProtos([file]), messageType, [file]);
    const stream = writer.streamWriter(table, { messageType, protoPath: file, maxPartBytes: options.maxPartBytes });
    for (const row of rows) {
      const message: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) if (v !== null) message[k] = typeof v === 'bigint' ? bigintToLong(v) : v;
      await stream.write(type.encode(message).finish());
    }
    await stream.close();
  }
  await writer.finish();
}

export function memberRow(overrides: Partial<MembersRow> = {}): MembersRow {
  const id = overrides.MemberId ?? 1;
  return {
    MemberId: id,
    UserName: `member${id}`,
    Email: `member${id}@example.com`,
    PasswordHash: new Uint8Array([1, 2, 3]),
    Gender: 2,
    BirthDate: '1990-05-17',
    City: 'Åbo',
    CountryCode: 'FI',
    Credits: '12.50',
    IsDeleted: false,
    RegisteredAt: micros('2010-03-04T05:06:07.123Z'),
    LastLoginAt: micros('2015-01-01T00:00:00Z'),
    DeletedAt: null,
    ExternalId: '0b0e6a38-61a4-4f1e-9d55-2b8d0c7a1e01',
    RowVer: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]),
    Presentation: 'Hej! 😀',
    ...overrides,
  };
}

export function messageRow(overrides: Partial<MessagesRow> = {}): MessagesRow {
  return {
    MessageId: 1n,
    SenderId: 1,
    RecipientId: 2,
    Body: 'Hello',
    SentAt: micros('2012-06-01T12:00:00Z'),
    ReadAt: null,
    IsDeletedBySender: false,
    IsDeletedByRecipient: false,
    ...overrides,
  };
}

/** An event as tests compare it: envelope fields plus the decoded payload (int64 as bigint). */
export interface ReadEvent {
  readonly id: string;
  readonly type: string;
  readonly occurredAt: bigint;
  readonly key: string;
  readonly source: { table: string; primary_key: string };
  readonly payloadType: string;
  readonly payload: Record<string, unknown>;
}

/** Reads an events data set in its merged order, decoding each payload. */
export async function readEvents(dir: string): Promise<ReadEvent[]> {
  const envelope = await envelopeType();
  const encoder = await EventEncoder.create(MODULES);
  const out: ReadEvent[] = [];
  for await (const batch of decodeEvents(dir, (b) => envelope.decode(b) as unknown as EventEnvelope)) {
    for (const e of batch) {
      const payloadType = encoder.payloadType(e.type)!;
      const payload = payloadType.toObject(payloadType.decode(e.payload), { longs: String, defaults: true }) as Record<string, unknown>;
      for (const field of payloadType.fieldsArray) {
        if (field.long && typeof payload[field.name] === 'string') payload[field.name] = BigInt(payload[field.name] as string);
      }
      out.push({
        id: e.id,
        type: e.type,
        occurredAt: int64ToBigInt(e.occurred_at),
        key: e.key,
        source: { table: e.source!.table, primary_key: e.source!.primary_key },
        payloadType: e.payload_type,
        payload,
      });
    }
  }
  return out;
}
