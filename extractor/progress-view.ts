import { formatBytes, formatCount, formatDuration } from '../common/progress.ts';

export interface TableToShow {
  readonly name: string;
  /** The catalog's estimate: the ETA is only as good as it is. */
  readonly estimatedRows: number;
  /** Rows kept from an interrupted run (resume): already done, not read again. */
  readonly keptRows?: number;
}

interface TableState {
  rows: number;
  bytes: number;
  readonly estimated: number;
  readonly kept: number;
  started: number | null;
  done: boolean;
}

/**
 * What the extract progress shows, per table being read: rows (of the estimate), MB,
 * rows/s and ETA; finished tables are counted, tables not started yet are not listed.
 * common/progress.ts draws it in place on a terminal and as plain lines otherwise.
 */
export class TableProgress {
  private readonly tables = new Map<string, TableState>();
  private readonly now: () => number;

  constructor(tables: readonly TableToShow[], now: () => number = Date.now) {
    this.now = now;
    for (const t of tables) {
      this.tables.set(t.name, { rows: 0, bytes: 0, estimated: t.estimatedRows, kept: t.keptRows ?? 0, started: null, done: false });
    }
  }

  /** `bytes`: uncompressed record bytes. */
  add(table: string, rows: number, bytes: number): void {
    const t = this.tables.get(table);
    if (!t) return;
    t.started ??= this.now();
    t.rows += rows;
    t.bytes += bytes;
  }

  done(table: string): void {
    const t = this.tables.get(table);
    if (t) t.done = true;
  }

  render(): string {
    const parts: string[] = [];
    let finished = 0;
    for (const [name, t] of this.tables) {
      if (t.done) {
        finished++;
        continue;
      }
      if (t.started === null) continue;
      const seconds = Math.max(0.001, (this.now() - t.started) / 1000);
      const rate = t.rows / seconds;
      const total = t.kept + t.rows;
      // Estimates lag behind a growing table: never show less than what was read.
      const estimated = Math.max(t.estimated, total);
      const eta = rate > 0 ? formatDuration((estimated - total) / rate) : '?';
      parts.push(`${name} ${formatCount(total)}/~${formatCount(estimated)} rows ${formatBytes(t.bytes)} ${formatCount(rate)} rows/s ETA ${eta}`);
    }
    if (finished) parts.push(`${finished}/${this.tables.size} tables done`);
    return parts.join(' · ');
  }
}
