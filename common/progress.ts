/** stderr, or any writable (tests collect the lines); `isTTY` picks the redrawn line. */
export type ProgressStream = NodeJS.WritableStream & { readonly isTTY?: boolean };

/**
 * Progress for long work: on a terminal, one line redrawn in place; otherwise (CI, a log
 * file) a plain line every `logEveryMs`. Always on stderr, so stdout stays for data.
 */
export interface ProgressOptions {
  readonly label: string;
  readonly stream?: ProgressStream;
  /** Force plain log lines (tests, --quiet) or silence (`false`). */
  readonly mode?: 'auto' | 'lines' | 'off';
  readonly redrawMs?: number;
  /** Between plain lines; default 10 s. Checked every second, or as often when shorter. */
  readonly logEveryMs?: number;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly tty: boolean;
  private readonly off: boolean;
  private readonly timer: NodeJS.Timeout | null;
  private lastLog = Date.now();
  private readonly logEveryMs: number;
  private render: () => string = () => '';
  private drawn = false;

  constructor(options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.label = options.label;
    const mode = options.mode ?? 'auto';
    this.off = mode === 'off';
    this.tty = mode === 'auto' && Boolean(this.stream.isTTY);
    this.logEveryMs = options.logEveryMs ?? 10_000;
    this.timer = this.off ? null : setInterval(() => this.tick(), this.tty ? (options.redrawMs ?? 250) : Math.min(1000, this.logEveryMs));
    this.timer?.unref();
  }

  /** What to show; called on every redraw, so keep it cheap. */
  set(render: () => string): void {
    this.render = render;
  }

  /** A message that should stay on screen (not overwritten by the progress line). */
  log(message: string): void {
    if (this.off) return;
    this.clear();
    this.stream.write(`${message}\n`);
  }

  /** Stops redrawing and prints the final state once. */
  done(final?: string): void {
    if (this.timer) clearInterval(this.timer);
    if (this.off) return;
    this.clear();
    const text = final ?? this.render();
    if (text) this.stream.write(`${this.label}: ${text}\n`);
  }

  private tick(): void {
    const text = this.render();
    if (!text) return;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${this.label}: ${text}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLog >= this.logEveryMs) {
      this.lastLog = Date.now();
      this.stream.write(`${this.label}: ${text}\n`);
    }
  }

  private clear(): void {
    if (this.drawn) {
      this.stream.write('\r\x1b[2K');
      this.drawn = false;
    }
  }
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Bytes → "12.3 MB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Seconds → "1h02m", "3m05s", "12.3s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
