import { SeedlineError } from '../../common/errors.ts';
import { decodeStream, readManifest } from '../../recordfile/index.ts';
import { dumpTable } from '../dump-schema.ts';
import { rowDecoder } from '../legacy-rows.ts';
import { LOOKUPS, type Lookups } from './index.ts';
import type { LookupName } from './lookup.ts';

/** The lookups `names` need, with every lookup they need in turn, in build order. */
export function lookupClosure(names: Iterable<LookupName>): LookupName[] {
  const wanted = new Set<LookupName>();
  const visit = (name: LookupName) => {
    if (wanted.has(name)) return;
    const definition = LOOKUPS.find((l) => l.name === name);
    if (!definition) throw new Error(`unknown lookup '${name}' (known: ${LOOKUPS.map((l) => l.name).join(', ')})`);
    definition.needs.forEach(visit);
    wanted.add(name);
  };
  for (const name of names) visit(name);
  return LOOKUPS.filter((l) => wanted.has(l.name)).map((l) => l.name);
}

/** The tables the lookups `names` (and what they need) read. */
export function lookupTables(names: Iterable<LookupName>): string[] {
  return lookupClosure(names).map((name) => LOOKUPS.find((l) => l.name === name)!.table);
}

export interface BuiltLookups {
  readonly lookups: Partial<Lookups>;
  /** Bytes held by all of them. */
  readonly bytes: number;
  /** Rows read to build them. */
  readonly rows: number;
}

/** First pass: reads each needed table whole and builds its lookup. */
export async function buildLookups(
  dump: string,
  names: Iterable<LookupName>,
  checkpoint: () => void,
  onRows: (n: number) => void = () => {},
): Promise<BuiltLookups> {
  const built: Partial<Record<LookupName, Lookups[LookupName]>> = {};
  let bytes = 0;
  let rows = 0;
  const manifest = await readManifest(dump);
  for (const name of lookupClosure(names)) {
    const definition = LOOKUPS.find((l) => l.name === name)!;
    const builder = definition.create(built as Partial<Lookups>);
    const decoder = await rowDecoder(dumpTable(dump, manifest, definition.table), definition.columns);
    for await (const batch of decodeStream(dump, definition.table, decoder.decode)) {
      checkpoint();
      for (const row of batch) builder.add(row);
      rows += batch.length;
      onRows(batch.length);
    }
    const lookup = builder.finish();
    built[name] = lookup;
    bytes += lookup.bytes;
  }
  return { lookups: built as Partial<Lookups>, bytes, rows };
}

/**
 * The `lookups` a module's rows see: the ones it declared; any other is a bug in the module,
 * reported at its first use rather than as an undefined deep inside its code.
 */
export function lookupsFor(moduleName: string, declared: readonly LookupName[], built: Partial<Lookups>): Lookups {
  const view = {} as Record<string, unknown>;
  for (const definition of LOOKUPS) {
    const name = definition.name;
    const lookup = declared.includes(name) ? built[name] : undefined;
    // A declared lookup is a plain property: modules read it on every row, a getter searched `declared` on each read.
    if (lookup) Object.defineProperty(view, name, { enumerable: true, value: lookup });
    else {
      Object.defineProperty(view, name, {
        enumerable: true,
        get() {
          throw new SeedlineError('TRANSFORM_FAILED', `module ${moduleName} uses lookup '${name}' without declaring it`, {
            module: moduleName,
            hint: `add '${name}' to lookups in transformer/modules/${moduleName}.ts`,
          });
        },
      });
    }
  }
  return view as unknown as Lookups;
}
