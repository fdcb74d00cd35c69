/**
 * One value per integer id in a typed array indexed by the id itself: legacy ids are dense
 * (identity columns with a few gaps), so this costs a few bytes per id and no object per row,
 * unlike a Map. Ids that would make the array absurdly large (negative, or beyond
 * MAX_DENSE_ID) are kept in a small Map instead; real dumps have few or none.
 */
type NumberArray = Uint8Array | Int32Array | Float64Array;

/** An IdColumn as it crosses to a worker thread: the array's memory is shared, not copied. */
export interface SharedIdColumn<A extends NumberArray> {
  readonly values: A;
  readonly outliers: readonly (readonly [number, number])[];
  readonly empty: number;
}

export const MAX_DENSE_ID = 1 << 27;

export class IdColumn<A extends NumberArray> {
  private values: A;
  private readonly outliers = new Map<number, number>();
  private readonly make: (length: number) => A;
  private readonly empty: number;

  /** `empty`: the value of an id never set (0 for Uint8Array/Int32Array, e.g. NaN for Float64Array). */
  constructor(make: (length: number) => A, empty: number, values?: A) {
    this.make = make;
    this.empty = empty;
    this.values = values ?? make(1024);
    if (!values && empty !== 0) this.values.fill(empty);
  }

  get(id: number): number {
    if (id >= 0 && id < this.values.length) return this.values[id]!;
    return this.outliers.get(id) ?? this.empty;
  }

  set(id: number, value: number): void {
    if (id < 0 || id >= MAX_DENSE_ID || !Number.isInteger(id)) {
      this.outliers.set(id, value);
      return;
    }
    if (id >= this.values.length) this.grow(id);
    this.values[id] = value;
  }

  /** Bytes held (the memory budget of the transform counts them). */
  get bytes(): number {
    return this.values.byteLength + this.outliers.size * 48;
  }

  /**
   * The values in a SharedArrayBuffer (copied once) for worker threads, which read them
   * through `IdColumn.fromShared` without a copy of their own.
   */
  toShared(): SharedIdColumn<A> {
    const values = this.values;
    const Ctor = values.constructor as new (buffer: SharedArrayBuffer) => A;
    const shared = new Ctor(new SharedArrayBuffer(values.byteLength));
    shared.set(values as never);
    this.values = shared; // this thread reads the shared copy too: the lookup is held once
    return { values: shared, outliers: [...this.outliers], empty: this.empty };
  }

  /** A read-only view of a column shared by another thread (`set` beyond its length would fail). */
  static fromShared<A extends NumberArray>(shared: SharedIdColumn<A>): IdColumn<A> {
    const column = new IdColumn<A>(() => {
      throw new Error('a shared IdColumn is read-only');
    }, shared.empty, shared.values);
    for (const [id, value] of shared.outliers) column.outliers.set(id, value);
    return column;
  }

  private grow(id: number): void {
    let length = this.values.length;
    while (length <= id) length *= 2;
    const next = this.make(Math.min(length, MAX_DENSE_ID));
    if (this.empty !== 0) next.fill(this.empty, this.values.length);
    next.set(this.values as never);
    this.values = next;
  }
}
