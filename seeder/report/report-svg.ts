/**
 * Line charts as inline SVG, drawn here rather than in the browser: the report page needs no
 * script and no network, opens the same everywhere, and its tests can count what was drawn.
 */

export interface Series {
  /** CSS class (colour) and what the legend says. */
  readonly cls: string;
  readonly label: string;
  /** [x, y] per point; null breaks the line (no value then, e.g. a second without confirms). */
  readonly points: ReadonlyArray<readonly [number, number] | null>;
  readonly dashed?: boolean;
  /** Tooltip of a point (only drawn as hover circles when there are few points). */
  readonly tip?: (x: number, y: number) => string;
}

/** A stretch of x to shade (a pause), with what it was. */
export interface Band {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

export interface ChartOptions {
  readonly id: string;
  readonly title: string;
  readonly series: readonly Series[];
  readonly bands?: readonly Band[];
  readonly xMax: number;
  readonly formatX: (x: number) => string;
  readonly formatY: (y: number) => string;
  /** 'log' for latencies, which span orders of magnitude when the broker stalls. */
  readonly yScale?: 'linear' | 'log';
}

const W = 900;
const H = 300;
const PAD = { left: 70, right: 16, top: 28, bottom: 36 };
/** Above this many points a series is a path only (no hover circles), to keep the page light. */
const MAX_HOVER_POINTS = 300;

export function lineChart(o: ChartOptions): string {
  const values = o.series.flatMap((s) => s.points.filter((p) => p !== null).map((p) => p[1]));
  const y = o.yScale === 'log' ? logScale(values) : linearScale(values);
  const xMax = o.xMax > 0 ? o.xMax : 1;
  const px = (x: number) => PAD.left + (x / xMax) * (W - PAD.left - PAD.right);
  const py = (v: number) => H - PAD.bottom - y.position(v) * (H - PAD.top - PAD.bottom);
  const out: string[] = [];
  out.push(`<svg id="${o.id}" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.title)}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<title>${esc(o.title)}</title>`);
  for (const b of o.bands ?? []) {
    const x0 = px(Math.max(0, b.from));
    const x1 = px(Math.min(xMax, b.to));
    out.push(`<rect class="band" x="${r(x0)}" y="${PAD.top}" width="${r(Math.max(1, x1 - x0))}" height="${H - PAD.top - PAD.bottom}"><title>${esc(b.label)}</title></rect>`);
  }
  for (const t of y.ticks) {
    out.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${r(py(t))}" y2="${r(py(t))}"/>`);
    out.push(`<text class="tick y" x="${PAD.left - 6}" y="${r(py(t) + 4)}">${esc(o.formatY(t))}</text>`);
  }
  for (const t of niceTicks(0, xMax, 8)) {
    out.push(`<text class="tick x" x="${r(px(t))}" y="${H - PAD.bottom + 18}">${esc(o.formatX(t))}</text>`);
  }
  out.push(`<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}"/>`);
  for (const s of o.series) {
    const drawn = s.points.filter((p) => p !== null);
    out.push(`<path class="series ${s.cls}${s.dashed ? ' dashed' : ''}" data-series="${s.cls}" data-points="${drawn.length}" d="${pathOf(s.points, px, py)}"/>`);
    if (s.tip && drawn.length <= MAX_HOVER_POINTS) {
      for (const [x, v] of drawn) out.push(`<circle class="point ${s.cls}" cx="${r(px(x))}" cy="${r(py(v))}" r="3"><title>${esc(s.tip(x, v))}</title></circle>`);
    }
  }
  let lx = PAD.left;
  for (const s of o.series) {
    out.push(`<g class="legend"><line class="series ${s.cls}${s.dashed ? ' dashed' : ''}" x1="${lx}" x2="${lx + 24}" y1="14" y2="14"/><text x="${lx + 30}" y="18">${esc(s.label)}</text></g>`);
    lx += 40 + s.label.length * 7.5;
  }
  out.push('</svg>');
  return out.join('\n');
}

/** "M x y L x y …"; a null point ends a stretch, the next point starts a new one with M. */
function pathOf(points: Series['points'], px: (x: number) => number, py: (y: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  for (const p of points) {
    if (p === null) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${r(px(p[0]))} ${r(py(p[1]))}`);
    pen = true;
  }
  return parts.join(' ');
}

interface Scale {
  /** 0 (bottom) … 1 (top). */
  position(v: number): number;
  readonly ticks: readonly number[];
}

function linearScale(values: readonly number[]): Scale {
  const top = Math.max(1, ...values) * 1.08;
  const ticks = niceTicks(0, top, 5);
  const max = Math.max(top, ticks[ticks.length - 1] ?? top);
  return { position: (v) => Math.max(0, v) / max, ticks };
}

function logScale(values: readonly number[]): Scale {
  const positive = values.filter((v) => v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...positive, 1000))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...positive, lo * 10) * 1.05)));
  const span = Math.log10(hi) - Math.log10(lo);
  const ticks: number[] = [];
  for (let d = lo; d <= hi; d *= 10) for (const m of span <= 2 ? [1, 2, 5] : [1]) if (d * m <= hi) ticks.push(d * m);
  return { position: (v) => (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span, ticks };
}

/** About `count` round ticks (1, 2 or 5 × 10^k apart) from `lo` to `hi`. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw > 0 ? raw : 1)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function r(n: number): string {
  return String(Math.round(n * 10) / 10);
}
