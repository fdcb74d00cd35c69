import { eventsByType, type EventStream, type Manifest } from '../recordfile/index.ts';
import type { TransformInfo } from './transform-balances.ts';

/**
 * What the transform recorded for the whole events data set, combined over its streams. Each
 * `events.<module>` stream's info holds that module's figures (`rejects` as reason → count);
 * an older single `events` stream holds them all (`rejects` as module → reason → count).
 * The modules it ran and skipped are in `producer.source` (older data sets: in the info too).
 */
export function transformInfoOf(manifest: Manifest, streams: readonly EventStream[]): TransformInfo {
  const rowsByModule: Record<string, NonNullable<TransformInfo['rowsByModule']>[string]> = {};
  const rowsByTable: Record<string, number> = {};
  const rejects: Record<string, Readonly<Record<string, number>>> = {};
  let recorded = false;
  let limitPerTable: number | undefined;
  for (const s of streams) {
    const info = (s.entry.info ?? {}) as TransformInfo;
    if (info.rowsByModule) {
      recorded = true;
      Object.assign(rowsByModule, info.rowsByModule);
    }
    Object.assign(rowsByTable, info.rowsByTable ?? {});
    if (s.module === null) Object.assign(rejects, info.rejects ?? {});
    else if (info.rejects) rejects[s.module] = info.rejects as unknown as Record<string, number>;
    limitPerTable ??= info.limitPerTable;
  }
  const single = streams.length === 1 && streams[0]!.module === null ? ((streams[0]!.entry.info ?? {}) as TransformInfo) : {};
  const source = manifest.producer.source ?? {};
  const modules = (source['modules'] as string[] | undefined) ?? single.modules ?? streams.flatMap((s) => (s.module === null ? [] : [s.module]));
  const skippedModules = (source['skippedModules'] as TransformInfo['skippedModules']) ?? single.skippedModules;
  return {
    modules,
    eventsByType: eventsByType(streams),
    rowsByTable,
    ...(recorded ? { rowsByModule } : {}),
    rejects,
    ...(limitPerTable !== undefined ? { limitPerTable } : {}),
    ...(skippedModules ? { skippedModules } : {}),
  };
}
