import type pg from 'pg';
import { SeedlineError } from '../common/errors.ts';
import { binaryField, inRow, quoteLiteral, type FieldWriter } from './pg-binary-fields.ts';
import { CopyBinaryParser, describeCopyProblem } from './pg-copy-binary.ts';
import { copyOut } from './pg-copy-out.ts';
import type { PgTableInfo } from './postgres-catalog.ts';
import { ProtoWriter } from '../common/proto-writer.ts';
import type { RecordLayout } from './record-layout.ts';
import type { EncodedBatch, KeyValue } from './source.ts';

/**
 * How one table's keyset pages are read with `COPY (SELECT …) TO STDOUT (FORMAT binary)`
 * and turned into record bytes as the data arrives: no JS value per column, no row object.
 * The select list is in field-number order (the order the fields are written in), then
 * the key columns' text.
 */
export interface CopyPlan {
  readonly select: string;
  readonly writers: readonly FieldWriter[];
  readonly keyColumns: number;
  /** Expected encoded bytes per row (grows with what is seen), to size the page's buffer. */
  rowBytes: number;
  /**
   * Two page buffers used in turn: page n + 2 reuses page n's, which its consumer has
   * finished with by then (EncodedBatch: valid until the next page is asked for). Every
   * ~32 MB of fresh Buffers makes V8 run a full GC, for the external memory alone.
   */
  readonly buffers: (Buffer | undefined)[];
  turn: number;
  /**
   * The source zone the statement must run in (`SET LOCAL TimeZone` around the COPY), when
   * naive timestamps are cast in the session's zone; undefined: no setting is needed.
   */
  readonly sessionZone?: string;
}

/**
 * null when a column's type or field has no binary path (read rows instead).
 * `zoneIsName`: `zone` is no time-zone abbreviation (pg_timezone_abbrevs), for which
 * AT TIME ZONE would take the abbreviation's fixed offset (CET: +1 all year), not the zone's
 * rules the session's TimeZone would use.
 */
export function copyPlan(info: PgTableInfo, layout: RecordLayout, zone: string | undefined, zoneIsName = false): CopyPlan | null {
  const naive = layout.fields.some((f) => info.baseTypes[f.name] === 'timestamp');
  // The session's zone also shapes the key text of a timestamptz key: only where there is none.
  const sessionZone = zone !== undefined && zoneIsName && naive && !info.primaryKey.some((k) => info.baseTypes[k] === 'timestamptz') ? zone : undefined;
  const selects: string[] = [];
  const writers: FieldWriter[] = [];
  for (const field of layout.fields) {
    const pgType = info.baseTypes[field.name];
    const binary = pgType === undefined ? null : binaryField(field, pgType, info.qualifiedName, zone, sessionZone !== undefined, info.castTypes[field.name]);
    if (!binary) return null;
    selects.push(binary.select);
    writers.push(binary.write);
  }
  return {
    select: selects.join(', '),
    writers,
    keyColumns: info.primaryKey.length,
    rowBytes: 256,
    buffers: [undefined, undefined],
    turn: 0,
    ...(sessionZone !== undefined ? { sessionZone } : {}),
  };
}

/**
 * The statement for one page: the COPY, inside `SET LOCAL TimeZone` when the plan casts naive
 * timestamps in the source zone. One simple query, so no extra round trip; the second SET puts
 * back the UTC every other statement of the session relies on (an error aborts the transaction).
 */
export function copyStatement(plan: CopyPlan, select: string): string {
  const copy = `COPY (${select}) TO STDOUT (FORMAT binary)`;
  return plan.sessionZone === undefined ? copy : `SET LOCAL TimeZone = ${quoteLiteral(plan.sessionZone)}; ${copy}; SET LOCAL TimeZone = 'UTC'`;
}

/**
 * Runs one COPY statement and returns its rows encoded. A failure inside the data (a value
 * with no encoding, corrupt COPY data) is thrown only after the rest of the statement's
 * output was read, so the connection is never left in the middle of a COPY.
 */
export function copyPage(client: pg.Client, sql: string, plan: CopyPlan, table: string, expectRows: number): Promise<EncodedBatch> {
  const { writers, keyColumns } = plan;
  const width = writers.length;
  const slot = plan.turn++ % plan.buffers.length;
  const size = Math.max(4096, Math.min(Math.ceil(expectRows * plan.rowBytes * 1.25), 64 * 1024 * 1024));
  const spare = plan.buffers[slot];
  const out = new ProtoWriter(spare && spare.length >= size ? spare : Buffer.allocUnsafe(size));
  const ends: number[] = [];
  const keys: KeyValue[] = [];
  const parser = new CopyBinaryParser(width + keyColumns, (buf, starts, lengths) => {
    const key: string[] = new Array(keyColumns);
    for (let k = 0; k < keyColumns; k++) key[k] = buf.toString('utf8', starts[width + k]!, starts[width + k]! + lengths[width + k]!);
    try {
      for (let i = 0; i < width; i++) {
        const length = lengths[i]!;
        if (length >= 0) writers[i]!(out, buf, starts[i]!, length); // NULL: the field is absent
      }
    } catch (err) {
      // A value with no encoding: name its row (the writers know table and column only).
      if (err instanceof SeedlineError) throw new SeedlineError(err.code, `${err.message}${inRow(key)}`, err.context);
      throw err;
    }
    ends.push(out.pos);
    keys.push(key);
  });
  return copyOut(client, sql, (chunk) => {
    const problem = parser.push(chunk);
    if (problem) throw corrupt(table, describeCopyProblem(problem), problem.offset);
  }).then(() => {
    const problem = parser.end();
    if (problem) throw corrupt(table, describeCopyProblem(problem), problem.offset);
    if (ends.length) plan.rowBytes = Math.max(plan.rowBytes, Math.ceil(out.pos / ends.length));
    // Grown, maybe; a buffer grown for huge values is not kept (it would stay for the whole run).
    plan.buffers[slot] = out.buf.length <= KEEP_BUFFER_BYTES ? out.buf : undefined;
    return { bytes: out.buf.subarray(0, out.pos), ends, keys };
  });
}

/** Page buffers up to this size are reused; the 4 MB pages of ordinary rows stay well under it. */
const KEEP_BUFFER_BYTES = 16 * 1024 * 1024;

function corrupt(table: string, what: string, offset: number): SeedlineError {
  return new SeedlineError('SOURCE_QUERY', `reading ${table}: ${what}`, {
    table,
    offset,
    hint: 'the server or the connection sent data the binary COPY reader did not expect; please report it with the server version',
  });
}
