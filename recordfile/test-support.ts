// Shared by the record-file tests: a temp directory, a producer and sample chat messages.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { SCHEMAS_DIR, loadProtos, lookupType } from '../common/protos.ts';
import { VERSION } from '../common/version.ts';
import type { Producer } from './manifest.ts';

export const MESSAGES_PROTO = join(SCHEMAS_DIR, 'legacy', 'Messages.proto');
export const MESSAGES_TYPE = 'seedline.legacy.Messages';

export async function messagesType(): Promise<protobuf.Type> {
  return lookupType(await loadProtos([MESSAGES_PROTO]), MESSAGES_TYPE, [MESSAGES_PROTO]);
}

export function testProducer(): Producer {
  return { tool: 'seedline', version: VERSION, stage: 'test', startedAt: new Date().toISOString() };
}

export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'seedline-recordfile-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A plain chat message row, deterministic in `i`; non-ASCII on purpose. */
export function sampleMessage(i: number): Record<string, unknown> {
  return {
    MessageId: 1_000_000_000_000 + i,
    SenderId: (i * 7) % 1000,
    RecipientId: (i * 13) % 1000,
    Body: i % 10 === 0 ? '' : `hej ${i} åäö 🙂 ${'x'.repeat(i % 50)}`,
    SentAt: 1_300_000_000_000_000 + i * 1_000_000,
    ...(i % 3 === 0 ? { ReadAt: 1_300_000_000_000_000 + i * 1_000_000 + 5_000_000 } : {}),
    IsDeletedBySender: i % 11 === 0,
    IsDeletedByRecipient: false,
  };
}

export function encodeMessage(type: protobuf.Type, i: number): Uint8Array {
  return type.encode(type.fromObject(sampleMessage(i))).finish();
}
