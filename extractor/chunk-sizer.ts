/**
 * How many rows the next keyset statement asks for: mydumper's rule. Each statement should
 * take 1-2 s on the server — long enough that per-statement costs vanish, short enough that
 * it holds nothing for long and a statement timeout means trouble. Faster than that: ask
 * for more rows (at most double); slower: fewer, in proportion. Bounded by `maxRows` and by
 * `maxPageBytes` of encoded rows, so a page held in memory stays small whatever the server's
 * speed and however wide the rows (20,000 rows of long texts held ~450 MB at peak).
 */
export interface ChunkSizerOptions {
  readonly startRows?: number;
  readonly minRows?: number;
  readonly maxRows?: number;
  /** The window each statement should land in, in ms. */
  readonly targetMs?: readonly [number, number];
  /** Encoded bytes one page may hold (the read-ahead page doubles it, per worker). */
  readonly maxPageBytes?: number;
}

export const DEFAULT_CHUNK = { startRows: 1_000, minRows: 100, maxRows: 20_000, targetMs: [1_000, 2_000] as const, maxPageBytes: 1024 * 1024 };

export class ChunkSizer {
  private size: number;
  private readonly min: number;
  private readonly max: number;
  private readonly low: number;
  private readonly high: number;
  private maxPageBytes: number;
  /** Average encoded bytes per row seen so far (0 until the first page). */
  private rowBytes = 0;

  constructor(options: ChunkSizerOptions = {}) {
    this.min = options.minRows ?? DEFAULT_CHUNK.minRows;
    this.max = Math.max(this.min, options.maxRows ?? DEFAULT_CHUNK.maxRows);
    [this.low, this.high] = options.targetMs ?? DEFAULT_CHUNK.targetMs;
    this.maxPageBytes = options.maxPageBytes ?? DEFAULT_CHUNK.maxPageBytes;
    this.size = clamp(options.startRows ?? DEFAULT_CHUNK.startRows, this.min, this.max);
  }

  /** Rows for the next statement. */
  get rows(): number {
    return this.size;
  }

  /** A statement that asked for `asked` rows took `ms`; a short last page tells nothing. */
  observe(asked: number, returned: number, ms: number): void {
    if (returned < asked) return;
    const middle = (this.low + this.high) / 2;
    let next = this.size;
    if (ms < this.low) next = asked * Math.min(2, middle / Math.max(ms, 1));
    else if (ms > this.high) next = asked * (middle / ms);
    this.size = clamp(Math.round(next), this.min, this.byteBound());
  }

  /** A new bound on a page's encoded bytes (pages already asked for keep theirs). */
  setMaxPageBytes(bytes: number): void {
    this.maxPageBytes = bytes;
  }

  /** `rows` rows encoded to `bytes` bytes: wide rows get smaller pages. */
  observeBytes(rows: number, bytes: number): void {
    if (rows <= 0) return;
    const perRow = bytes / rows;
    this.rowBytes = this.rowBytes === 0 ? perRow : this.rowBytes * 0.8 + perRow * 0.2;
    this.size = clamp(this.size, this.min, this.byteBound());
  }

  private byteBound(): number {
    if (this.rowBytes === 0) return this.max;
    return Math.max(this.min, Math.min(this.max, Math.floor(this.maxPageBytes / this.rowBytes)));
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
