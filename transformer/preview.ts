import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envelopeType } from '../common/protos.ts';
import { EventEncoder } from './event-encoder.ts';
import { checkDump } from './generate.ts';
import { DEFAULT_MEMORY_BYTES, runPipeline } from './pipeline.ts';
import { RejectLog, type RejectCounts } from './rejects.ts';
import { resolveModules } from './select-modules.ts';
import { envelopeOf } from './sort-record.ts';
import { checkMaxRejects } from './transform.ts';

/**
 * `seedline transform --format json`: the same events, in the same order, printed as JSON
 * lines instead of written to a data set — for eyeballing a module and piping to `jq`.
 * Field names as in envelope.proto; the payload is decoded; following protobuf's JSON
 * mapping, int64 values are decimal strings, enums their names, bytes base64.
 * Rejects are only counted (run without --format json to get rejects/).
 */
export interface PreviewOptions {
  readonly dump: string;
  readonly modules?: readonly string[];
  readonly limit?: number;
  readonly memoryBytes?: number;
  /** Stop with TOO_MANY_REJECTS at the reject after this many. */
  readonly maxRejects?: number;
  readonly progress?: 'auto' | 'lines' | 'off';
  readonly signal?: AbortSignal;
  /** Receives one JSON line (with its newline); return a promise to slow the transform down. */
  readonly write: (line: string) => void | Promise<void>;
}

export interface PreviewResult {
  readonly events: number;
  readonly eventsByType: Record<string, number>;
  readonly rejects: number;
  readonly rejectsByModule: RejectCounts;
  readonly skippedModules: readonly { readonly module: string; readonly missingTables: readonly string[] }[];
  readonly elapsedMs: number;
}

export async function previewEvents(options: PreviewOptions): Promise<PreviewResult> {
  const started = performance.now();
  const { selected: modules, skipped } = await resolveModules(options.dump, options.modules);
  await checkDump(options.dump, modules.map((m) => m.module));
  const envelope = await envelopeType();
  const encoder = await EventEncoder.create(modules.map((m) => m.module));
  checkMaxRejects(options.maxRejects);
  const rejects = new RejectLog(null, { maxRejects: options.maxRejects });
  const tmp = await mkdtemp(join(tmpdir(), 'seedline-preview-'));
  try {
    const { stats } = await runPipeline(
      {
        dump: options.dump,
        modules,
        limit: options.limit,
        memoryBytes: options.memoryBytes ?? DEFAULT_MEMORY_BYTES,
        tmpDir: join(tmp, 'runs'),
        rejects,
        progress: options.progress,
        signal: options.signal,
      },
      async (sorted) => {
        const json = { longs: String, enums: String, bytes: String } as const;
        for await (const batch of sorted) {
          for (const record of batch) {
            const event = envelope.decode(envelopeOf(record));
            const { type, payload } = event as unknown as { type: string; payload: Uint8Array };
            const object = envelope.toObject(event, json);
            const payloadType = encoder.payloadType(type)!;
            object['payload'] = payloadType.toObject(payloadType.decode(payload), json);
            const wait = options.write(`${JSON.stringify(object)}\n`);
            if (wait) await wait;
          }
        }
      },
    );
    return {
      events: stats.events,
      eventsByType: Object.fromEntries(Object.entries(stats.eventsByType).sort(([a], [b]) => (a < b ? -1 : 1))),
      rejects: rejects.count,
      rejectsByModule: rejects.byModule(),
      skippedModules: skipped,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
