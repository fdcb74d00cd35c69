/**
 * One error type for the whole tool. `code` is machine-readable (tests assert on it);
 * the context fields say where it happened; `hint` says what the user can do about it.
 */
export const ERROR_CODES = [
  'USAGE', // a wrong flag or argument
  'CONFIG_INVALID', // the config file cannot be read or has a mistake
  'CORRUPT_RECORD_FILE', // truncated gzip, bad varint, oversized or undecodable record
  'CHECKSUM_MISMATCH', // a part's sha256 or record count differs from its manifest
  'MANIFEST_INVALID', // manifest.json missing, unreadable or of another format
  'SOURCE_CONNECT', // the database cannot be reached
  'SOURCE_AUTH', // the database refused the credentials
  'SOURCE_QUERY', // a statement failed on the database
  'TABLE_NOT_FOUND', // a configured table does not exist in the source
  'SCHEMA_DRIFT', // a table no longer matches its .proto
  'SCHEMA_INVALID', // a .proto file is missing or cannot be parsed
  'UNSUPPORTED_TYPE', // a column type without a mapping
  'TRANSFORM_FAILED', // an event generator threw on a row
  'BROKER_CONNECT', // RabbitMQ cannot be reached or refused the connection
  'BROKER_REFUSED', // RabbitMQ refused an operation (access, exchange type mismatch, ...)
  'PUBLISH_FAILED', // events were nacked or lost
  'NOTHING_ROUTED', // seed: every event came back unroutable (no queue bound to the exchange)
  'INTERRUPTED', // the user pressed Ctrl-C or the process got SIGTERM
  'OUTPUT_EXISTS', // the output directory holds a finished data set
  'CHECKPOINT_INVALID', // a seed checkpoint is unreadable, missing for --resume, or of another run
  'SOURCE_ISOLATION', // the source cannot give the consistent read-only view asked for (SQL Server SNAPSHOT off)
  'VALUE_TOO_LARGE', // a single value is over the size limit (SQL Server (max) columns)
  'TOO_MANY_REJECTS', // more legacy rows were rejected than --max-rejects allows
  'VERIFY_FAILED', // seedline tap: expected events missing, or out of order per key
  'SOURCE_LOCKED', // a table's lock could not be had within --lock-timeout (someone holds it)
  'DATASET_LOCKED', // another run is writing the same data set (or seed checkpoint)
  'OUTPUT_UNWRITABLE', // the output path cannot be written: full disk, read-only, not a directory
  'BACKLOG_LIMIT', // seed --max-backlog / --max-backlog-growth: a watched queue passed the limit
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorContext {
  readonly file?: string;
  readonly table?: string;
  readonly column?: string;
  readonly module?: string;
  readonly option?: string;
  /** Byte offset in the uncompressed (or, for gzip errors, compressed) stream. */
  readonly offset?: number;
  /** Zero-based index of the record within its file. */
  readonly record?: number;
  /** What the user can do about it, one sentence. */
  readonly hint?: string;
}

export class SeedlineError extends Error {
  override readonly name = 'SeedlineError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.context = context;
  }

  get hint(): string | undefined {
    return this.context.hint;
  }
}

export function isSeedlineError(err: unknown, code?: ErrorCode): err is SeedlineError {
  return err instanceof SeedlineError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for wrapping foreign errors with context. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.constructor.name;
  return String(err);
}
