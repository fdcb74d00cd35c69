/**
 * The pure core of the record-file format: protobuf's standard delimited framing
 * (`varint32 length` + message bytes). No streams, no files: bytes in, records out.
 * Errors are returned as values with the offset where the problem starts, so the
 * stream wrappers can name the file.
 */

/** A record longer than this is treated as corruption, not as a record to buffer. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Bytes needed to write `n` as a varint32. */
export function varint32Size(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

/** Writes `n` as a varint32 at `pos`; returns the position after it. */
export function writeVarint32(buf: Uint8Array, pos: number, n: number): number {
  let v = n >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** One record framed: length prefix + bytes. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(varint32Size(message.length) + message.length);
  const pos = writeVarint32(out, 0, message.length);
  out.set(message, pos);
  return out;
}

export type FramingProblem =
  | { readonly kind: 'bad-varint'; readonly offset: number; readonly record: number }
  | { readonly kind: 'too-long'; readonly offset: number; readonly record: number; readonly length: number }
  | { readonly kind: 'truncated'; readonly offset: number; readonly record: number; readonly missing: number };

/**
 * Splits a byte stream into records. Feed it chunks in order; it returns the complete
 * records found so far and keeps the leftover bytes (as pg-protocol's parser does).
 * Returned records may share memory with the input chunk: copy them to keep them.
 */
export class RecordSplitter {
  private readonly maxRecordBytes: number;
  /** The start of a record cut by the end of the last chunk (prefix and/or part of its body). */
  private leftover: Buffer | null = null;
  /**
   * Chunks that arrived after `leftover` while a long record is still incomplete. Only the
   * straddling record's bytes are ever copied, once, when it is whole: never whole chunks.
   */
  private pending: Buffer[] = [];
  /** Bytes in `leftover` + `pending`. */
  private pendingBytes = 0;
  /** Total bytes (prefix + body) of the record `leftover` starts, once its prefix is known; else 0. */
  private needed = 0;
  private prefixBytes = 0;
  /** Uncompressed offset of the first byte not yet consumed into a record. */
  private consumed = 0;
  private records = 0;
  problem: FramingProblem | null = null;

  constructor(maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Records completed so far. */
  get recordCount(): number {
    return this.records;
  }

  /** Uncompressed bytes consumed into complete records so far. */
  get byteCount(): number {
    return this.consumed;
  }

  /**
   * Appends `chunk` and pushes every complete record into `out`. Stops and sets
   * `problem` at the first framing error; returns false then.
   */
  push(chunk: Buffer, out: Buffer[]): boolean {
    if (this.problem) return false;
    let pos = 0;
    if (this.leftover) {
      pos = this.completeLeftover(chunk, out);
      if (pos < 0) return pos === WAITING;
    }
    const buf = chunk;
    const end = buf.length;
    while (pos < end) {
      // Decode the varint32 length prefix inline: this loop is the hot path.
      let length = 0;
      let shift = 0;
      let p = pos;
      let done = false;
      while (p < end) {
        const b = buf[p++]!;
        if (shift === 28) {
          // Fifth byte: only the low 4 bits fit in 32 bits, and it must end the varint.
          if (b & 0xf0) {
            this.problem = { kind: 'bad-varint', offset: this.consumed, record: this.records };
            return false;
          }
          length += b * 2 ** 28;
          done = true;
          break;
        }
        length |= (b & 0x7f) << shift;
        if (b < 0x80) {
          done = true;
          break;
        }
        shift += 7;
      }
      if (!done) break; // the prefix itself is split across chunks
      length >>>= 0;
      if (length > this.maxRecordBytes) {
        this.problem = { kind: 'too-long', offset: this.consumed, record: this.records, length };
        return false;
      }
      if (end - p < length) {
        // The body is split across chunks: wait until all of it has arrived.
        this.prefixBytes = p - pos;
        this.needed = this.prefixBytes + length;
        break;
      }
      out.push(buf.subarray(p, p + length));
      this.consumed += p + length - pos;
      this.records++;
      pos = p + length;
    }
    if (pos < end) {
      this.leftover = buf.subarray(pos);
      this.pendingBytes = this.leftover.length;
    }
    return true;
  }

  /**
   * Finishes the record that `leftover` starts with bytes from `chunk`. Returns the position
   * in `chunk` after it, WAITING when `chunk` did not finish it, or FAILED.
   */
  private completeLeftover(chunk: Buffer, out: Buffer[]): number {
    if (this.needed === 0) {
      // The prefix was cut (at most 4 bytes are waiting): join it with the chunk's first bytes.
      const head = Buffer.concat([this.leftover!, chunk.subarray(0, 5)]);
      const prefix = readPrefix(head);
      if (prefix === null) {
        if (head.length >= 5) {
          this.problem = { kind: 'bad-varint', offset: this.consumed, record: this.records };
          return FAILED;
        }
        this.leftover = head; // chunk was shorter than 5 bytes and all of it belongs to the prefix
        this.pendingBytes = head.length;
        return WAITING;
      }
      if (prefix.length > this.maxRecordBytes) {
        this.problem = { kind: 'too-long', offset: this.consumed, record: this.records, length: prefix.length };
        return FAILED;
      }
      this.prefixBytes = prefix.bytes;
      this.needed = prefix.bytes + prefix.length;
    }
    if (this.pendingBytes + chunk.length < this.needed) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      return WAITING;
    }
    const take = this.needed - this.pendingBytes;
    const record = Buffer.concat([this.leftover!, ...this.pending, chunk.subarray(0, take)], this.needed);
    out.push(record.subarray(this.prefixBytes));
    this.consumed += this.needed;
    this.records++;
    this.leftover = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.needed = 0;
    return take;
  }

  /** Call at end of input: reports a record cut short, if any. */
  finish(): boolean {
    if (this.problem) return false;
    if (this.leftover && this.leftover.length > 0) {
      const prefix = readPrefix(this.leftover);
      this.problem = {
        kind: 'truncated',
        offset: this.consumed,
        record: this.records,
        // When the prefix itself is incomplete, at least one byte is missing.
        missing: prefix ? prefix.bytes + prefix.length - this.pendingBytes : 1,
      };
      return false;
    }
    return true;
  }
}

const WAITING = -1;
const FAILED = -2;

/** Reads a varint32 at the start of `buf`; null when it does not end within 5 bytes or `buf`. */
function readPrefix(buf: Buffer): { length: number; bytes: number } | null {
  let length = 0;
  for (let p = 0; p < buf.length && p < 5; p++) {
    const b = buf[p]!;
    if (p === 4 && b & 0xf0) return null;
    length += (b & 0x7f) * 2 ** (7 * p);
    if (b < 0x80) return { length, bytes: p + 1 };
  }
  return null;
}

export function describeProblem(problem: FramingProblem): string {
  switch (problem.kind) {
    case 'bad-varint':
      return `length prefix of record ${problem.record} at byte ${problem.offset} is not a valid varint32`;
    case 'too-long':
      return `record ${problem.record} at byte ${problem.offset} claims ${problem.length} bytes, over the maximum record size`;
    case 'truncated':
      return `record ${problem.record} at byte ${problem.offset} is cut short (at least ${problem.missing} byte(s) missing)`;
  }
}
