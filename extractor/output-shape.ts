import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SeedlineError } from '../common/errors.ts';
import type { Manifest } from '../recordfile/index.ts';

/**
 * Everything that shapes the bytes of a dump's records, recorded in the manifest so that
 * `--resume` can prove the parts it adds are the same kind as the parts it keeps: the
 * source time zone (naive timestamps become UTC by it), the type mapping's version, and per
 * table its .proto (by sha256), the columns left out and the masks. The gzip level, part
 * size, batch size and concurrency change how records are cut and compressed, not a record.
 */

/**
 * Bump when the record a column turns into changes for the same value (a new encoding of a
 * type, a changed text form): a dump then cannot be resumed across that change.
 */
// 2: dates outside years 1-9999 are ISO 8601 expanded years (-0043-03-15), no longer the
//    server's text (0044-03-15 BC); infinite timestamps, intervals, arrays, enums, json … are new.
export const TYPE_MAPPING_VERSION = 2;

export interface RunShape {
  readonly sourceTimezone: string | null;
  readonly typeMappingVersion: number;
}

export interface TableShape {
  readonly table: string;
  readonly messageType: string;
  /** sha256 of the .proto file the records were encoded with. */
  readonly protoSha256: string;
  readonly excluded: readonly string[];
  readonly masked: Readonly<Record<string, string>>;
}

export function runShape(sourceTimezone: string | undefined): RunShape {
  return { sourceTimezone: sourceTimezone ?? null, typeMappingVersion: TYPE_MAPPING_VERSION };
}

export async function tableShape(t: { table: string; messageType: string; protoPath: string; excluded?: readonly string[]; masked: Readonly<Record<string, string>> }): Promise<TableShape> {
  const protoSha256 = createHash('sha256').update(await readFile(t.protoPath)).digest('hex');
  return { table: t.table, messageType: t.messageType, protoSha256, excluded: [...(t.excluded ?? [])].sort(), masked: sortedObject(t.masked) };
}

/** Where the run's shape lives in the manifest (the tables' in `streams.<name>.info.shape`). */
export function recordedRunShape(manifest: Manifest): RunShape | undefined {
  return manifest.producer.options as RunShape | undefined;
}

/**
 * Refuses to resume `manifest` with a different shape: every difference, each naming the
 * option, the old and the new value. Tables new to the dump are not compared.
 */
export function assertSameShape(manifest: Manifest, dir: string, run: RunShape, tables: ReadonlyMap<string, TableShape>): void {
  const was = recordedRunShape(manifest);
  if (!was) {
    throw new SeedlineError('USAGE', `${dir} records no extract options (written by an older seedline): nothing proves the parts it holds match this run's options`, {
      file: dir,
      option: 'resume',
      hint: 'start the dump over with --overwrite',
    });
  }
  const differences: string[] = [];
  const differ = (what: string, old: unknown, now: unknown) => {
    if (JSON.stringify(old) !== JSON.stringify(now)) differences.push(`${what}: the dump has ${show(old)}, this run ${show(now)}`);
  };
  differ('--source-timezone', was.sourceTimezone, run.sourceTimezone);
  differ('type mapping version (seedline upgraded)', was.typeMappingVersion, run.typeMappingVersion);
  for (const [stream, now] of tables) {
    const old = manifest.streams[stream]?.info?.shape as TableShape | undefined;
    if (!manifest.streams[stream]) continue;
    if (!old) {
      differences.push(`${now.table}: the dump records no shape for it`);
      continue;
    }
    differ(`${now.table} .proto (sha256)`, old.protoSha256, now.protoSha256);
    differ(`${now.table} message type`, old.messageType, now.messageType);
    differ(`${now.table} "exclude"`, old.excluded, now.excluded);
    differ(`${now.table} "mask"`, old.masked, now.masked);
  }
  if (differences.length) {
    throw new SeedlineError('USAGE', `cannot resume ${dir} with other options than it was started with: ${differences.join('; ')}`, {
      file: dir,
      option: 'resume',
      hint: 'resume with the options the dump was started with (see manifest.json: producer.options and each stream\'s info.shape), or start over with --overwrite',
    });
  }
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (Array.isArray(v)) return v.length ? v.join(', ') : 'none';
  if (typeof v === 'object') return Object.keys(v).length ? JSON.stringify(v) : 'none';
  return String(v);
}

function sortedObject(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
