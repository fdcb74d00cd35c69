/**
 * One value per integer id in a typed array indexed by the id itself: legacy ids are dense
 * (identity columns with a few gaps), so this costs a few bytes per id and no object per row,
 * unlike a Map. Ids that would make the array absurdly large (negative, or beyond
 * MAX_DENSE_ID) are kept in a small Map instead; real dumps have few or none.
 */
type NumberArray = Uint8Array | Int32Array | Float64Array;

export const MAX_DENSE_ID = 1 << 27;

export class IdColumn<A extends NumberArray> {
  private values: A;
  private readonly outliers = new Map<number, number>();
  private readonly make: (length: number) => A;
  private readonly empty: number;

  /** `empty`: the value of an id never set (0 for Uint8Array/Int32Array, e.g. NaN for Float64Array). */
  constructor(make: (length: number) => A, empty: number) {
    this.make = make;
    this.empty = empty;
    this.values = make(1024);
    if (empty !== 0) this.values.fill(empty);
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

  private grow(id: number): void {
    let length = this.values.length;
    while (length <= id) length *= 2;
    const next = this.make(Math.min(length, MAX_DENSE_ID));
    if (this.empty !== 0) next.fill(this.empty, this.values.length);
    next.set(this.values as never);
    this.values = next;
  }
}
