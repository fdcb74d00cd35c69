/**
 * The pure core of reading PostgreSQL's `COPY … TO STDOUT (FORMAT binary)`: bytes in, complete
 * tuples out, the leftover of a tuple cut by the end of a chunk kept for the next one (as
 * pg-protocol's parser does). No streams, no database: problems are returned with the byte
 * offset where they start, and the caller names the table.
 *
 * Format (PostgreSQL docs, "COPY", binary format): an 11-byte signature, int32 flags, int32
 * header-extension length and the extension; then per tuple an int16 field count and per
 * field an int32 length (-1 = NULL) and that many bytes; then the int16 trailer -1.
 */
export const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_BYTES = COPY_SIGNATURE.length + 8;
/** Bytes of the next chunk joined to a cut tuple at least: enough for a typical row's remaining fields. */
const JOIN_AHEAD = 2048;
/** Flags bit 16: every tuple carries an OID, which a query's COPY never asks for. */
const FLAG_OIDS = 1 << 16;

export type CopyProblem =
  | { readonly kind: 'bad-header'; readonly offset: number }
  | { readonly kind: 'bad-field-count'; readonly offset: number; readonly expected: number; readonly found: number }
  | { readonly kind: 'bad-length'; readonly offset: number; readonly length: number }
  | { readonly kind: 'after-trailer'; readonly offset: number }
  | { readonly kind: 'truncated'; readonly offset: number };

/**
 * Called once per tuple. `starts[i]`/`lengths[i]` locate field i in `buf` (length -1: NULL);
 * valid only during the call.
 */
export type TupleHandler = (buf: Buffer, starts: Int32Array, lengths: Int32Array) => void;

export class CopyBinaryParser {
  private readonly fieldCount: number;
  private readonly onTuple: TupleHandler;
  private readonly starts: Int32Array;
  private readonly lengths: Int32Array;
  private headerDone = false;
  private trailerSeen = false;
  /** Start of a tuple (or of the header) cut by the end of the last chunk. */
  private leftover: Buffer | null = null;
  /** The cut tuple's bytes so far (`leftover` first), joined once enough are there. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes `leftover` + `pending` must reach before parsing again is worth it. */
  private needed = 0;
  /** Stream offset of the first byte not yet consumed. */
  private consumed = 0;
  tuples = 0;
  problem: CopyProblem | null = null;

  constructor(fieldCount: number, onTuple: TupleHandler) {
    this.fieldCount = fieldCount;
    this.onTuple = onTuple;
    this.starts = new Int32Array(fieldCount);
    this.lengths = new Int32Array(fieldCount);
  }

  /**
   * Feeds the next chunk, which need be valid only during the call (bytes kept for later
   * are copied); returns the first problem found (and keeps returning it).
   */
  push(chunk: Buffer): CopyProblem | null {
    if (this.problem) return this.problem;
    let rest = chunk;
    // A tuple cut by the last chunk: only its bytes (and a little more) are joined, never the
    // whole next chunk, which is parsed where it is; and only once enough of them are there.
    while (this.leftover) {
      const missing = this.needed - this.pendingBytes;
      if (rest.length < missing) {
        this.pending.push(Buffer.from(rest)); // a copy: the caller may reuse the chunk's memory
        this.pendingBytes += rest.length;
        return null;
      }
      // A little more than the known minimum, so the tuple's later fields come in the same join.
      const take = Math.min(rest.length, Math.max(missing, JOIN_AHEAD));
      this.pending.push(rest.subarray(0, take));
      const joined = Buffer.concat(this.pending, this.pendingBytes + take);
      rest = rest.subarray(take);
      this.leftover = null;
      this.pending = [];
      this.pendingBytes = 0;
      // Completes the tuple, or keeps it again, knowing now how many more bytes it needs.
      if (this.parse(joined)) return this.problem;
    }
    return rest.length > 0 ? this.parse(rest) : null;
  }

  /** The data ended: anything but a complete stream with its trailer is a problem. */
  end(): CopyProblem | null {
    if (this.problem) return this.problem;
    if (!this.headerDone || !this.trailerSeen || this.leftover) this.problem = { kind: 'truncated', offset: this.consumed };
    return this.problem;
  }

  private parse(buf: Buffer): CopyProblem | null {
    let pos = 0;
    if (!this.headerDone) {
      if (buf.length < HEADER_BYTES) return this.keep(buf, 0, HEADER_BYTES);
      if (!buf.subarray(0, COPY_SIGNATURE.length).equals(COPY_SIGNATURE) || (buf.readInt32BE(COPY_SIGNATURE.length) & FLAG_OIDS) !== 0) {
        return this.fail({ kind: 'bad-header', offset: this.consumed });
      }
      const extension = buf.readInt32BE(COPY_SIGNATURE.length + 4);
      if (extension < 0) return this.fail({ kind: 'bad-header', offset: this.consumed + COPY_SIGNATURE.length + 4 });
      if (buf.length < HEADER_BYTES + extension) return this.keep(buf, 0, HEADER_BYTES + extension);
      pos = HEADER_BYTES + extension;
      this.headerDone = true;
    }
    const { fieldCount, starts, lengths } = this;
    const size = buf.length;
    while (pos < size) {
      if (this.trailerSeen) return this.fail({ kind: 'after-trailer', offset: this.consumed + pos });
      if (size - pos < 2) return this.keep(buf, pos, 2);
      const count = buf.readInt16BE(pos);
      if (count === -1) {
        this.trailerSeen = true;
        pos += 2;
        continue;
      }
      if (count !== fieldCount) return this.fail({ kind: 'bad-field-count', offset: this.consumed + pos, expected: fieldCount, found: count });
      let p = pos + 2;
      let complete = true;
      for (let i = 0; i < fieldCount; i++) {
        if (size - p < 4) {
          complete = false;
          p += 4;
          break;
        }
        const length = buf.readInt32BE(p);
        p += 4;
        if (length < -1) return this.fail({ kind: 'bad-length', offset: this.consumed + p - 4, length });
        starts[i] = p;
        lengths[i] = length;
        if (length > 0) {
          p += length;
          if (p > size) {
            // Wait for this field's end, no more: the data may end right after it (then the trailer's 2 bytes).
            complete = false;
            break;
          }
        }
      }
      if (!complete) return this.keep(buf, pos, p - pos);
      this.onTuple(buf, starts, lengths);
      this.tuples++;
      pos = p;
    }
    this.consumed += pos;
    return null;
  }

  /** Keeps `buf[from…]` until at least `atLeast` bytes from `from` are there. */
  private keep(buf: Buffer, from: number, atLeast: number): null {
    this.consumed += from;
    this.leftover = Buffer.from(buf.subarray(from)); // a copy, as above
    this.pending = [this.leftover];
    this.pendingBytes = this.leftover.length;
    this.needed = atLeast;
    return null;
  }

  private fail(problem: CopyProblem): CopyProblem {
    this.problem = problem;
    return problem;
  }
}

/** A problem in words, for the error that names the table. */
export function describeCopyProblem(p: CopyProblem): string {
  switch (p.kind) {
    case 'bad-header':
      return `the COPY data does not start with PostgreSQL's binary header (byte ${p.offset})`;
    case 'bad-field-count':
      return `a tuple at byte ${p.offset} has ${p.found} fields, expected ${p.expected}`;
    case 'bad-length':
      return `a field at byte ${p.offset} has length ${p.length}`;
    case 'after-trailer':
      return `data follows the end-of-data marker at byte ${p.offset}`;
    case 'truncated':
      return `the COPY data ended inside a tuple or without its end-of-data marker (byte ${p.offset})`;
  }
}
