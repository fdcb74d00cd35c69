import { formatBytes, formatCount } from '../common/progress.ts';

/** What the extract progress line shows: per table rows, MB read and rows/s. */
export class TableProgress {
  private readonly started = Date.now();
  private readonly tables = new Map<string, { rows: number; bytes: number; done: boolean }>();

  constructor(names: readonly string[]) {
    for (const name of names) this.tables.set(name, { rows: 0, bytes: 0, done: false });
  }

  add(table: string, rows: number, bytes: number): void {
    const t = this.tables.get(table);
    if (!t) return;
    t.rows += rows;
    t.bytes += bytes;
  }

  done(table: string): void {
    const t = this.tables.get(table);
    if (t) t.done = true;
  }

  render(): string {
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    return [...this.tables]
      .map(([name, t]) => `${name} ${formatCount(t.rows)} rows ${formatBytes(t.bytes)} ${t.done ? 'done' : `${formatCount(t.rows / seconds)} rows/s`}`)
      .join(' · ');
  }
}
