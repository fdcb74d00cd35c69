import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SeedlineError, messageOf } from '../common/errors.ts';
import type { TableSpec } from './extract.ts';
import { closest } from './suggest.ts';

/**
 * The optional extract config file (`--config seedline.json`). Flags given on the command
 * line win over it. Paths are relative to the file. `${NAME}` in `source` is taken from the
 * environment, so the password need not be written in the file:
 *
 * ```json
 * {
 *   "source": "postgres://seedline:${SEEDLINE_PG_PASSWORD}@db.example:5432/legacy",
 *   "sourceTimezone": "Europe/Helsinki",
 *   "out": "dump",
 *   "tables": [
 *     { "name": "dbo.Members", "exclude": ["PasswordHash"], "mask": { "Email": "sha256" }, "proto": "protos/Members.proto" },
 *     "dbo.Messages"
 *   ]
 * }
 * ```
 */
export interface ExtractConfig {
  readonly source?: string;
  readonly sourceTimezone?: string;
  readonly out?: string;
  readonly schemasDir?: string;
  readonly gzipLevel?: number;
  readonly batchRows?: number;
  readonly concurrency?: number;
  readonly maxRowsPerSecond?: number;
  readonly tables?: readonly TableSpec[];
}

type Check = (value: unknown) => string | null;
const isString: Check = (v) => (typeof v === 'string' && v.length > 0 ? null : 'a non-empty string');
const isInt = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`;
const isStringList: Check = (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? null : 'a list of strings');

const TOP_KEYS: Record<string, Check> = {
  $comment: () => null,
  source: isString,
  sourceTimezone: isString,
  out: isString,
  schemasDir: isString,
  gzipLevel: isInt(0, 9),
  batchRows: isInt(1),
  concurrency: isInt(1),
  maxRowsPerSecond: isInt(1),
  tables: (v) => (Array.isArray(v) ? null : 'a list of table names or { "name": ... } objects'),
};
const isMask: Check = (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((m) => typeof m === 'string') ? null : 'an object of column → method, e.g. { "Email": "sha256" }';
const TABLE_KEYS: Record<string, Check> = { name: isString, proto: isString, exclude: isStringList, mask: isMask };

export async function loadExtractConfig(file: string): Promise<ExtractConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SeedlineError('CONFIG_INVALID', `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? messageOf(err)}`, {
      file,
      hint: 'check the path given to --config',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SeedlineError('CONFIG_INVALID', `${file} is not valid JSON: ${messageOf(err)}`, { file, hint: 'fix the JSON syntax (no comments or trailing commas)' });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SeedlineError('CONFIG_INVALID', `${file} must hold a JSON object`, { file });
  }
  const obj = checkKeys(raw as Record<string, unknown>, TOP_KEYS, file, '');
  const base = dirname(resolve(file));
  const tables = (obj.tables as unknown[] | undefined)?.map((t, i) => {
    if (typeof t === 'string') return { name: t };
    if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      throw invalid(file, `tables[${i}]`, 'a table name or { "name": ... }', t);
    }
    const spec = checkKeys(t as Record<string, unknown>, TABLE_KEYS, file, `tables[${i}].`);
    if (spec.name === undefined) throw invalid(file, `tables[${i}].name`, 'a non-empty string', undefined);
    return {
      name: spec.name as string,
      ...(spec.proto !== undefined ? { proto: resolve(base, spec.proto as string) } : {}),
      ...(spec.exclude !== undefined ? { exclude: spec.exclude as string[] } : {}),
      ...(spec.mask !== undefined ? { mask: spec.mask as Record<string, string> } : {}),
    };
  });
  const pick = <K extends keyof ExtractConfig>(k: K) => (obj[k] !== undefined ? { [k]: obj[k] } : {});
  return {
    ...(obj.source !== undefined ? { source: expandEnv(obj.source as string, file) } : {}),
    ...pick('sourceTimezone'),
    ...(obj.out !== undefined ? { out: resolve(base, obj.out as string) } : {}),
    ...(obj.schemasDir !== undefined ? { schemasDir: resolve(base, obj.schemasDir as string) } : {}),
    ...pick('gzipLevel'),
    ...pick('batchRows'),
    ...pick('concurrency'),
    ...pick('maxRowsPerSecond'),
    ...(tables ? { tables } : {}),
  } as ExtractConfig;
}

function checkKeys(obj: Record<string, unknown>, known: Record<string, Check>, file: string, prefix: string): Record<string, unknown> {
  for (const [key, value] of Object.entries(obj)) {
    const check = known[key];
    if (!check) {
      const [best] = closest(key, Object.keys(known).filter((k) => k !== '$comment'), 1);
      throw new SeedlineError('CONFIG_INVALID', `${file}: unknown key "${prefix}${key}"${best ? ` (did you mean "${prefix}${best}"?)` : ''}`, {
        file,
        option: `${prefix}${key}`,
        hint: best ? `rename it to "${best}"` : `the keys are: ${Object.keys(known).join(', ')}`,
      });
    }
    const expected = check(value);
    if (expected) throw invalid(file, `${prefix}${key}`, expected, key === 'source' ? '(hidden)' : value);
  }
  return obj;
}

function invalid(file: string, key: string, expected: string, found: unknown): SeedlineError {
  return new SeedlineError('CONFIG_INVALID', `${file}: "${key}" must be ${expected}, found ${JSON.stringify(found) ?? 'nothing'}`, {
    file,
    option: key,
    hint: `fix "${key}" in ${file}`,
  });
}

/** `${NAME}` → the environment variable; a missing one is named, its would-be value never shown. */
function expandEnv(value: string, file: string): string {
  // The whole URL from one variable is taken as is; a piece of it (the password) is URL-encoded.
  const whole = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value);
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) {
      throw new SeedlineError('CONFIG_INVALID', `${file}: "source" uses \${${name}}, which is not set in the environment`, {
        file,
        option: 'source',
        hint: `export ${name}=... before running seedline`,
      });
    }
    return whole ? v : encodeURIComponent(v);
  });
}
