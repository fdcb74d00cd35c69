import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { VERSION } from '../common/version.ts';
import {
  DatasetWriter,
  MODULE_STREAM_PREFIX,
  SINGLE_EVENTS_STREAM,
  moduleStreamName,
  readManifest,
  type Manifest,
} from '../recordfile/index.ts';
import { MODULES } from './modules/index.ts';
import type { SelectedModule } from './select-modules.ts';

/**
 * Where a transform writes, and what of an existing events data set it keeps.
 *
 * An events data set is derived from its dump: transform rebuilds it the same, so writing into
 * one that this dump produced needs no --overwrite. When modules are named (`--module chat`)
 * and `out` holds a complete data set of the same dump (same content, same --limit), only
 * their streams (`events.chat`) and reject files are rewritten and every other module's
 * stream is kept as it is: the result is byte for byte what a run of every module writes.
 * A data set of another dump, or in the single-stream layout, cannot be topped up: without
 * --module it is rebuilt; with --module, transform refuses (the kept modules would be stale)
 * unless --overwrite replaces it with the named modules alone. An interrupted re-run (manifest
 * incomplete) is topped up the same way as long as every stream it keeps is complete.
 */
export interface EventsOutput {
  readonly dataset: DatasetWriter;
  /** Modules of the existing data set left as they were. */
  readonly kept: readonly string[];
  /** Every module of the data set once this run finishes, in module order. */
  readonly modules: readonly string[];
}

export interface EventsOutputOptions {
  readonly out: string;
  readonly dump: string;
  readonly selected: readonly SelectedModule[];
  /** True when the caller named modules (--module): the others are kept where they can be. */
  readonly named: boolean;
  readonly limit: number | undefined;
  readonly overwrite?: boolean;
  readonly skippedModules: readonly { readonly module: string; readonly missingTables: readonly string[] }[];
}

export async function openEventsOutput(options: EventsOutputOptions): Promise<EventsOutput> {
  const dump = resolve(options.dump);
  const dumpDigest = digestOf(await readManifest(options.dump));
  const old = await readManifest(options.out).catch(() => null);
  const own = old?.producer.stage === 'transform' && old.producer.source?.['dump'] === dump;
  const names = options.selected.map((m) => m.module.name);
  const producer = (modules: readonly string[], skipped: EventsOutputOptions['skippedModules']) => ({
    tool: 'seedline' as const,
    version: VERSION,
    stage: 'transform' as const,
    source: {
      dump,
      dumpDigest,
      limit: options.limit ?? null,
      modules: sortByModuleList(modules),
      merge: 'per-module streams events.<module>, merged by occurred_at, then info.moduleIndex',
      ...(skipped.length > 0 ? { skippedModules: skipped } : {}),
    },
    startedAt: new Date().toISOString(),
  });

  const split = !old?.streams[SINGLE_EVENTS_STREAM];
  // The single-stream layout names its modules in producer.source only.
  const oldModules = !old ? [] : split ? moduleStreamsOf(old) : ((old.producer.source?.['modules'] ?? []) as string[]);
  const kept = oldModules.filter((m) => !names.includes(m));
  // Complete, or interrupted while re-running other modules: every stream to keep is whole.
  const keptWhole = !!old && kept.length > 0 && (old.complete || (split && kept.every((m) => old.streams[moduleStreamName(m)]?.complete)));
  if (options.named && own && keptWhole) {
    const sameInput = old.producer.source?.['dumpDigest'] === dumpDigest && old.producer.source?.['limit'] === (options.limit ?? null);
    if (sameInput && split) {
      const skipped = ((old.producer.source?.['skippedModules'] ?? []) as EventsOutputOptions['skippedModules']).filter((s) => !names.includes(s.module));
      const modules = [...kept, ...names];
      await removeRejects(options.out, names);
      const dataset = await DatasetWriter.replaceStreams(options.out, producer(modules, skipped), names.map(moduleStreamName));
      return { dataset, kept, modules: sortByModuleList(modules) };
    }
    if (!options.overwrite) {
      const why = !split ? 'is in the older single-stream layout' : old.producer.source?.['limit'] !== (options.limit ?? null) ? 'was made with another --limit' : 'was made from an earlier state of the dump';
      throw new SeedlineError('OUTPUT_EXISTS', `${options.out} holds the events of ${kept.join(', ')} too, and ${why}: running only ${names.join(', ')} would leave them stale`, {
        file: options.out,
        option: '--module',
        hint: `run transform without --module to rebuild every module, or pass --overwrite to replace the data set with ${names.join(', ')} alone`,
      });
    }
  }
  if (own) await rm(join(options.out, 'rejects'), { recursive: true, force: true });
  const dataset = await DatasetWriter.create(options.out, producer(names, options.skippedModules), { overwrite: options.overwrite || own });
  return { dataset, kept: [], modules: names };
}

/**
 * Lists the data set's streams in module order (an incremental run re-adds its streams at the
 * end): the manifest of a re-run module reads like that of a full run.
 */
export function orderModuleStreams(dataset: DatasetWriter): void {
  const order = sortByModuleList(moduleStreamsOf(dataset.manifest)).map(moduleStreamName);
  const others = Object.keys(dataset.manifest.streams).filter((s) => !s.startsWith(MODULE_STREAM_PREFIX));
  dataset.manifest.streams = Object.fromEntries([...order, ...others].map((s) => [s, dataset.manifest.streams[s]!]));
}

/** The modules whose streams a data set holds. */
function moduleStreamsOf(manifest: Manifest): string[] {
  return Object.keys(manifest.streams).filter((s) => s.startsWith(MODULE_STREAM_PREFIX)).map((s) => s.slice(MODULE_STREAM_PREFIX.length));
}

function sortByModuleList(modules: readonly string[]): string[] {
  const position = (name: string) => {
    const i = MODULES.findIndex((m) => m.name === name);
    return i < 0 ? MODULES.length : i;
  };
  return [...new Set(modules)].sort((a, b) => position(a) - position(b) || (a < b ? -1 : 1));
}

/** The dump's content as one hash (every part's checksum): a re-extracted dump is another dump. */
function digestOf(manifest: Manifest): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(manifest.streams).sort()) {
    const stream = manifest.streams[name]!;
    hash.update(`${name} ${stream.messageType} ${stream.records}\n`);
    for (const part of stream.parts) hash.update(`${part.file} ${part.sha256}\n`);
  }
  return hash.digest('hex');
}

async function removeRejects(out: string, modules: readonly string[]): Promise<void> {
  for (const module of modules) await rm(join(out, 'rejects', `${module}.jsonl`), { force: true });
}
