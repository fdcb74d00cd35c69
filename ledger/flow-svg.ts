import { formatCount } from '../common/progress.ts';
import { esc } from '../seeder/report/report-svg.ts';
import { FLOW_COLUMNS, type Flow, type FlowLink, type FlowNode } from './flow.ts';

/**
 * The flow picture as inline SVG: one column of boxes per stage (legacy tables, modules, event
 * types, outcomes), box heights proportional to what passes through them within their column,
 * bands between them as wide as what flows. Every band and box has a <title> with its count.
 */
const WIDTH = 1000;
const NODE_W = 14;
const GAP = 10;
const TOP = 28;
const COLUMN_X = [20, 270, 520, 790];
const HEADINGS = ['legacy tables (rows)', 'modules', 'event types (events)', 'where they ended'];

export const OUTCOME_COLORS: Readonly<Record<string, string>> = {
  delivered: '#3a9a4a',
  'in the data set': '#3a9a4a',
  'arrived at tap': '#2f7d3c',
  'missing at tap': '#c62828',
  unroutable: '#e08a00',
  'not selected': '#9e9e9e',
  rejected: '#d9534f',
  dropped: '#b0887a',
  'not read': '#c7c7c7',
  unaccounted: '#c62828',
};

interface Placed {
  readonly node: FlowNode;
  readonly x: number;
  readonly y: number;
  readonly h: number;
  readonly value: number;
  readonly scale: number;
  outY: number;
  inY: number;
}

export function flowSvg(flow: Flow): string {
  const inflow = new Map<string, number>();
  const outflow = new Map<string, number>();
  for (const l of flow.links) {
    inflow.set(l.to, (inflow.get(l.to) ?? 0) + l.count);
    outflow.set(l.from, (outflow.get(l.from) ?? 0) + l.count);
  }
  const value = (n: FlowNode) => Math.max(inflow.get(n.id) ?? 0, outflow.get(n.id) ?? 0);
  const busiest = Math.max(1, ...FLOW_COLUMNS.map((c) => flow.nodes.filter((n) => n.column === c).length));
  const height = Math.max(360, busiest * 34) + TOP + 10;
  const placed = new Map<string, Placed>();
  FLOW_COLUMNS.forEach((column, i) => {
    const nodes = flow.nodes.filter((n) => n.column === column);
    const total = nodes.reduce((s, n) => s + value(n), 0);
    const room = height - TOP - 10 - GAP * Math.max(0, nodes.length - 1) - nodes.length * 3;
    const scale = total > 0 ? room / total : 0;
    let y = TOP;
    for (const node of nodes) {
      const h = value(node) * scale + 3;
      placed.set(node.id, { node, x: COLUMN_X[i]!, y, h, value: value(node), scale, outY: y, inY: y });
      y += h + GAP;
    }
  });
  const bands = flow.links.map((l) => band(l, placed.get(l.from)!, placed.get(l.to)!)).join('\n');
  const boxes = [...placed.values()].map(box).join('\n');
  const headings = HEADINGS.map((h, i) => `<text class="heading" x="${COLUMN_X[i]}" y="14">${esc(h)}</text>`).join('');
  return `<svg id="flow" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="legacy tables, modules, event types and where they ended">
${headings}
<g class="bands">${bands}</g>
<g class="nodes">${boxes}</g>
</svg>`;
}

function band(l: FlowLink, from: Placed, to: Placed): string {
  const w0 = l.count * from.scale;
  const w1 = l.count * to.scale;
  const x0 = from.x + NODE_W;
  const x1 = to.x;
  const y0 = from.outY;
  const y1 = to.inY;
  from.outY += w0;
  to.inY += w1;
  const mx = (x0 + x1) / 2;
  const d = `M${r(x0)},${r(y0)} C${r(mx)},${r(y0)} ${r(mx)},${r(y1)} ${r(x1)},${r(y1)} L${r(x1)},${r(y1 + w1 + 0.5)} C${r(mx)},${r(y1 + w1 + 0.5)} ${r(mx)},${r(y0 + w0 + 0.5)} ${r(x0)},${r(y0 + w0 + 0.5)} Z`;
  const color = to.node.column === 'outcome' ? (OUTCOME_COLORS[to.node.label] ?? '#888') : '#7a9cc6';
  return `<path class="band" d="${d}" fill="${color}" data-from="${esc(l.from)}" data-to="${esc(l.to)}" data-count="${l.count}"><title>${esc(`${from.node.label} → ${to.node.label}: ${formatCount(l.count)} ${l.unit}`)}</title></path>`;
}

function box(p: Placed): string {
  const color = p.node.column === 'outcome' ? (OUTCOME_COLORS[p.node.label] ?? '#888') : '#4a6d99';
  const label = `${p.node.label} ${formatCount(p.value)}`;
  return `<g class="node" data-id="${esc(p.node.id)}"><rect x="${p.x}" y="${r(p.y)}" width="${NODE_W}" height="${r(p.h)}" fill="${color}"><title>${esc(label)}</title></rect><text x="${p.x + NODE_W + 4}" y="${r(p.y + p.h / 2 + 4)}">${esc(label)}</text></g>`;
}

function r(n: number): string {
  return String(Math.round(n * 10) / 10);
}
