import { createHash } from 'node:crypto';
import type protobuf from 'protobufjs';
import { SeedlineError } from '../common/errors.ts';
import { columnFields } from './proto-names.ts';
import type { ColumnValue, TableInfo } from './columns.ts';

/**
 * Column masking from the config (`"mask": { "Email": "sha256" }`), so personal data need
 * not leave production: the value is replaced by its SHA-256 before it is encoded. Equal
 * values still hash equal (joins and de-duplication keep working), NULL stays NULL. The
 * field in the table's .proto must be `string` (lowercase hex) or `bytes` (the 32 bytes).
 *
 * Unsalted: a short or guessable value (a phone number, a common e-mail) can be found
 * again by hashing candidates. Drop the column (`exclude`) when that matters.
 */
export const MASK_METHODS = ['sha256'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

/** Field types a masked column may have in the .proto. */
export const MASKED_FIELD_TYPES = ['string', 'bytes'] as const;

/** Refuses masks naming no column, a key column, or an unknown method. */
export function checkMasks(table: TableInfo, mask: Readonly<Record<string, string>>): void {
  for (const [column, method] of Object.entries(mask)) {
    if (!table.columns.some((c) => c.name === column)) {
      throw new SeedlineError('CONFIG_INVALID', `${table.qualifiedName} has no column ${column} to mask`, {
        table: table.qualifiedName,
        column,
        hint: `its columns are ${table.columns.map((c) => c.name).join(', ')}`,
      });
    }
    if (table.primaryKey.includes(column)) {
      throw new SeedlineError('CONFIG_INVALID', `${table.qualifiedName}: primary key column ${column} cannot be masked (resume and verify read the key)`, {
        table: table.qualifiedName,
        column,
      });
    }
    const kind = table.columns.find((c) => c.name === column)!.kind;
    if (kind === 'interval' || kind === 'array') {
      throw new SeedlineError('CONFIG_INVALID', `${table.qualifiedName}.${column}: an ${kind} column cannot be masked (its value is a message, not one text)`, {
        table: table.qualifiedName,
        column,
        hint: 'drop the column with "exclude", or mask a view column that casts it to text',
      });
    }
    if (!(MASK_METHODS as readonly string[]).includes(method)) {
      throw new SeedlineError('CONFIG_INVALID', `${table.qualifiedName}.${column}: mask method "${method}" is not one of ${MASK_METHODS.join(', ')}`, {
        table: table.qualifiedName,
        column,
        hint: 'write "sha256", or drop the column with "exclude"',
      });
    }
  }
}

/** A function replacing the masked values of a row (in `table.columns` order) in place; null when nothing is masked. */
export function rowMasker(table: TableInfo, mask: Readonly<Record<string, string>>, type: protobuf.Type): ((row: ColumnValue[]) => void) | null {
  const byColumn = columnFields(type);
  const masked = table.columns.flatMap((c, i) => (mask[c.name] ? [{ i, asBytes: byColumn.get(c.name)?.type === 'bytes' }] : []));
  if (masked.length === 0) return null;
  return (row) => {
    for (const { i, asBytes } of masked) {
      const v = row[i];
      if (v === null || v === undefined) continue;
      row[i] = maskValue(v, asBytes);
    }
  };
}

/** The hash of one value that is not NULL: text as UTF-8, bytes as they are, numbers and booleans as their JS text. */
export function maskValue(v: Exclude<ColumnValue, null>, asBytes: boolean): string | Buffer {
  const hash = createHash('sha256').update(typeof v === 'string' || Buffer.isBuffer(v) ? v : String(v));
  return asBytes ? hash.digest() : hash.digest('hex');
}
