import { ENVELOPE_PROTO, ENVELOPE_TYPE } from '../common/protos.ts';
import { moduleStreamName, type DatasetWriter, type StreamWriter } from '../recordfile/index.ts';
import type { SelectedModule } from './select-modules.ts';
import { envelopeOf, moduleIndexOf, occurredAtJsonOf } from './sort-record.ts';

export interface ModuleStreamOptions {
  readonly maxPartBytes?: number;
  readonly gzipLevel: number;
  readonly parallelParts: number;
}

/**
 * Splits the sorted events of a transform into one stream per module (`events.<module>`,
 * recordfile/events-dataset.ts): the sort records come in the data set's one order, and a
 * module's events keep that order in its stream, so merging the streams by (occurred_at,
 * module index) gives it back. Each module's stream depends on that module's events alone:
 * re-running one module rewrites one stream, byte for byte what a full run writes.
 */
export class ModuleStreams {
  private readonly writers = new Map<number, { module: SelectedModule; writer: StreamWriter }>();

  /** Declares the streams in module order (so the manifest lists them so), then opens their writers. */
  static async open(dataset: DatasetWriter, modules: readonly SelectedModule[], options: ModuleStreamOptions): Promise<ModuleStreams> {
    for (const module of modules) await dataset.declareStream(moduleStreamName(module.module.name), { messageType: ENVELOPE_TYPE, protoPath: ENVELOPE_PROTO });
    return new ModuleStreams(dataset, modules, options);
  }

  private constructor(dataset: DatasetWriter, modules: readonly SelectedModule[], options: ModuleStreamOptions) {
    for (const module of modules) {
      const writer = dataset.streamWriter(moduleStreamName(module.module.name), {
        messageType: ENVELOPE_TYPE,
        protoPath: ENVELOPE_PROTO,
        maxPartBytes: options.maxPartBytes,
        gzipLevel: options.gzipLevel,
        parallelParts: options.parallelParts,
      });
      this.writers.set(module.index, { module, writer });
    }
  }

  /** Appends one sort record (sort-record.ts) to its module's stream; await the result only when it is a promise. */
  write(record: Buffer): Promise<void> | undefined {
    const target = this.writers.get(moduleIndexOf(record));
    if (!target) throw new Error(`an event of module index ${moduleIndexOf(record)}, which this transform does not run`);
    return target.writer.write(envelopeOf(record), occurredAtJsonOf(record));
  }

  /** Closes every stream (empty ones too: a module that emitted nothing still has its stream) with its info. */
  async close(infoOf: (module: SelectedModule) => Record<string, unknown>): Promise<void> {
    for (const { module, writer } of this.writers.values()) await writer.close({ module: module.module.name, moduleIndex: module.index, ...infoOf(module) });
  }

  async abort(): Promise<void> {
    await Promise.allSettled([...this.writers.values()].map(({ writer }) => writer.abort()));
  }
}
