import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { generateProto } from './legacy-schema.ts';
import { openSource } from './open-source.ts';
import { tableProtoName } from './proto-names.ts';
import { expandTableGlobs } from './table-globs.ts';

export interface GenerateSchemasOptions {
  readonly source: string;
  readonly tables: readonly string[];
  /** Directory for the .proto files (default schemas/legacy of the current directory). */
  readonly out: string;
  /** Replace .proto files that exist (they are reviewed files: off by default). */
  readonly overwrite?: boolean;
  readonly connectTimeoutMs?: number;
  /** The zone naive timestamps will be read in, named in their fields' comments. */
  readonly sourceTimezone?: string;
  /** Told what a pattern left out (partitions: their partitioned table holds their rows). */
  readonly onNote?: (note: string) => void;
}

export interface GeneratedSchema {
  readonly table: string;
  /** Message, file and stream name (proto-names.ts): the table name, made an identifier and unique. */
  readonly name: string;
  readonly file: string;
  /** Columns without a mapping, left as comments for the reviewer. */
  readonly unsupported: readonly string[];
}

/** Writes a starting `<Table>.proto` per table from the live catalog, for a human to review. */
export async function generateSchemas(options: GenerateSchemasOptions): Promise<GeneratedSchema[]> {
  if (!options.tables.length) {
    throw new SeedlineError('USAGE', 'no tables named', { option: 'tables', hint: 'name them: seedline schema dbo.Members dbo.Messages --source ...' });
  }
  const source = await openSource({ source: options.source, ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}) });
  await source.connect();
  try {
    const all = await source.listTables();
    const tables = [];
    const expanded = expandTableGlobs(options.tables, (n) => n, (_n, name) => name, all);
    for (const note of expanded.notes) options.onNote?.(note);
    const names = expanded.items;
    for (const name of names) tables.push(await source.describeTable(name));
    const written: GeneratedSchema[] = [];
    await mkdir(options.out, { recursive: true });
    for (const table of tables) {
      const name = tableProtoName(table, all);
      const file = resolve(join(options.out, `${name}.proto`));
      const twice = written.find((w) => w.file === file);
      if (twice) {
        throw new SeedlineError('USAGE', `${twice.table} and ${table.qualifiedName} are both ${name}.proto: name each table once`, { table: table.qualifiedName });
      }
      if (existsSync(file) && !options.overwrite) {
        throw new SeedlineError('OUTPUT_EXISTS', `${file} exists: it is a reviewed schema, not overwritten`, {
          file,
          table: table.qualifiedName,
          hint: 'write to another --out and compare, or pass --overwrite',
        });
      }
      await writeFile(file, generateProto(table, { messageName: name, ...(options.sourceTimezone ? { sourceTimezone: options.sourceTimezone } : {}) }));
      written.push({ table: table.qualifiedName, name, file, unsupported: table.columns.filter((c) => c.kind === null).map((c) => c.name) });
    }
    return written;
  } finally {
    await source.close();
  }
}
