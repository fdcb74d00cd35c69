import { SeedlineError } from '../common/errors.ts';
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
