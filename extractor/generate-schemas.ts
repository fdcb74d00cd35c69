import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SeedlineError } from '../common/errors.ts';
import { generateProto } from './legacy-schema.ts';
import { openSource } from './open-source.ts';

export interface GenerateSchemasOptions {
  readonly source: string;
  readonly tables: readonly string[];
  /** Directory for the .proto files (default schemas/legacy of the current directory). */
  readonly out: string;
  /** Replace .proto files that exist (they are reviewed files: off by default). */
  readonly overwrite?: boolean;
  readonly connectTimeoutMs?: number;
}

export interface GeneratedSchema {
  readonly table: string;
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
    const tables = [];
    for (const name of options.tables) tables.push(await source.describeTable(name));
    const written: GeneratedSchema[] = [];
    await mkdir(options.out, { recursive: true });
    for (const table of tables) {
      const file = resolve(join(options.out, `${table.name}.proto`));
      if (existsSync(file) && !options.overwrite) {
        throw new SeedlineError('OUTPUT_EXISTS', `${file} exists: it is a reviewed schema, not overwritten`, {
          file,
          table: table.qualifiedName,
          hint: 'write to another --out and compare, or pass --overwrite',
        });
      }
      await writeFile(file, generateProto(table));
      written.push({ table: table.qualifiedName, file, unsupported: table.columns.filter((c) => c.kind === null).map((c) => c.name) });
    }
    return written;
  } finally {
    await source.close();
  }
}
