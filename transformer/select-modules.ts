import { SeedlineError } from '../common/errors.ts';
import { readManifest } from '../recordfile/index.ts';
import { lookupTables } from './lookups/build.ts';
import type { EventModule } from './module.ts';
import { MODULES } from './modules/index.ts';

export interface SelectedModule {
  readonly module: EventModule;
  /** Position in the full module list: the tie-break on equal occurred_at. */
  readonly index: number;
}

/** The modules named (all when none), in module-list order; an unknown name is a USAGE error. */
export function selectModules(names?: readonly string[], all: readonly EventModule[] = MODULES): SelectedModule[] {
  const indexed = all.map((module, index) => ({ module, index }));
  if (!names || names.length === 0) return indexed;
  const known = new Set(all.map((m) => m.name));
  for (const name of names) {
    if (!known.has(name)) {
      throw new SeedlineError('USAGE', `unknown module '${name}' (known: ${[...known].join(', ')})`, {
        option: '--module',
        hint: 'run seedline transform --help for the list of modules',
      });
    }
  }
  const wanted = new Set(names);
  return indexed.filter(({ module }) => wanted.has(module.name));
}

export interface ResolvedModules {
  readonly selected: SelectedModule[];
  /** Modules left out because the dump lacks a table they (or their lookups) read. */
  readonly skipped: readonly { readonly module: string; readonly missingTables: readonly string[] }[];
}

/**
 * The modules to run on `dump`: those named (a missing table is then an error, from
 * checkDump), or, when none is named, every module whose tables the dump holds — a dump of
 * Members and Messages runs members and chat — with the others listed as skipped, so the
 * summary can say so. No runnable module at all is an error.
 */
export async function resolveModules(dump: string, names?: readonly string[], all: readonly EventModule[] = MODULES): Promise<ResolvedModules> {
  const selected = selectModules(names, all);
  if (names && names.length > 0) return { selected, skipped: [] };
  const streams = new Set(Object.keys((await readManifest(dump)).streams));
  const runnable: SelectedModule[] = [];
  const skipped: { module: string; missingTables: string[] }[] = [];
  for (const entry of selected) {
    const missingTables = [...entry.module.reads, ...lookupTables(entry.module.lookups)].filter((t) => !streams.has(t));
    if (missingTables.length === 0) runnable.push(entry);
    else skipped.push({ module: entry.module.name, missingTables: [...new Set(missingTables)] });
  }
  if (runnable.length === 0) {
    throw new SeedlineError('MANIFEST_INVALID', `${dump} holds none of the tables the modules read (${[...streams].join(', ') || 'no streams'})`, {
      file: dump,
      hint: `extract the legacy tables (${[...new Set(all.flatMap((m) => m.reads))].join(', ')}) first`,
    });
  }
  return { selected: runnable, skipped };
}
