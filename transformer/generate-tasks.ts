import { join } from 'node:path';
import { readManifest, streamOf, type PartEntry } from '../recordfile/index.ts';
import { dumpTable, type DumpTable } from './dump-schema.ts';
import type { EventModule } from './module.ts';

/**
 * The work of a transform cut into tasks that can run on different threads: one per dump part
 * of each (module, table), in the order a single thread runs them (module list, tables, parts).
 * A module with `state()` (memory across rows, e.g. flirts' double-click window) sees all its
 * rows in one task, in order, as it would on one thread. Results are put back in task order
 * where order shows (rejects); events need not be, the sort orders them by their bytes.
 */
export interface TaskPart {
  readonly file: string;
  readonly entry: PartEntry;
  /** Rows to read of this part (--limit spread over the parts by their record counts); all when absent. */
  readonly limit?: number;
}

export interface GenerateTask {
  /** Position in the single-thread order. */
  readonly index: number;
  readonly module: string;
  /** The module's position in the full module list (the tie-break in the stream order). */
  readonly moduleIndex: number;
  readonly segments: readonly TaskSegment[];
}

/** Parts of one table, and how to decode them (the dump's own schema of the table). */
export interface TaskSegment {
  readonly table: string;
  readonly source: DumpTable;
  readonly parts: readonly TaskPart[];
}

export async function planTasks(
  dump: string,
  modules: readonly { readonly module: EventModule; readonly index: number }[],
  limit?: number,
): Promise<GenerateTask[]> {
  const tasks: GenerateTask[] = [];
  const manifest = await readManifest(dump);
  for (const { module, index } of modules) {
    const segments: TaskSegment[] = [];
    for (const table of module.reads) {
      let left = limit ?? Number.POSITIVE_INFINITY;
      const parts: TaskPart[] = [];
      for (const entry of streamOf(manifest, table, dump).parts) {
        const file = join(dump, entry.file);
        parts.push(limit === undefined ? { file, entry } : { file, entry, limit: Math.min(left, entry.records) });
        left = Math.max(0, left - entry.records);
      }
      segments.push({ table, source: dumpTable(dump, manifest, table), parts });
    }
    if (module.stateful) tasks.push({ index: tasks.length, module: module.name, moduleIndex: index, segments });
    else {
      for (const segment of segments) {
        for (const part of segment.parts) tasks.push({ index: tasks.length, module: module.name, moduleIndex: index, segments: [{ ...segment, parts: [part] }] });
      }
    }
  }
  return tasks;
}
