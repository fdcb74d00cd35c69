/**
 * Writes a data set of generated chat messages (seedline.legacy.Messages). Run as a child
 * process by the benchmarks, so the memory and JIT state of the writing stay out of the
 * process that measures reading: `tsx bench/write-chat-dataset.ts <dir> <records>`.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMAS_DIR, loadProtos, lookupType } from '../common/protos.ts';
import { VERSION } from '../common/version.ts';
import { DatasetWriter } from '../recordfile/index.ts';
import { chatMessages } from './chat-messages.ts';

export const MESSAGES_PROTO = join(SCHEMAS_DIR, 'legacy', 'Messages.proto');
export const MESSAGES_TYPE = 'seedline.legacy.Messages';
export const MESSAGES_STREAM = 'Messages';

export async function writeChatDataset(dir: string, records: number): Promise<void> {
  const type = lookupType(await loadProtos([MESSAGES_PROTO]), MESSAGES_TYPE, [MESSAGES_PROTO]);
  const producer = { tool: 'seedline', version: VERSION, stage: 'test', startedAt: new Date().toISOString() } as const;
  const dataset = await DatasetWriter.create(dir, producer);
  const writer = dataset.streamWriter(MESSAGES_STREAM, { messageType: MESSAGES_TYPE, protoPath: MESSAGES_PROTO, gzipLevel: 6 });
  for (const row of chatMessages(records)) await writer.write(type.encode(row).finish(), row.MessageId);
  await writer.close();
  await dataset.finish();
}

/** Runs writeChatDataset in a child process (it inherits tsx's loader through execArgv). */
export function writeChatDatasetInChild(dir: string, records: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [dir, String(records)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`writing the data set failed (exit code ${code ?? signal})`)),
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, records] = process.argv.slice(2);
  if (!dir || !records) {
    console.error('usage: tsx bench/write-chat-dataset.ts <dir> <records>');
    process.exit(2);
  }
  await writeChatDataset(dir, Number(records));
}
