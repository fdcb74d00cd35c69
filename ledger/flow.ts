import type { TapVerdict } from '../seeder/tap/tap.ts';
import { MODULES } from '../transformer/modules/index.ts';
import type { EventScan } from './event-scan.ts';
import type { TransformInfo } from './transform-balances.ts';

/**
 * The flow picture's data: legacy tables → modules → event types → where they ended. Until
 * the modules the unit is rows, after them events (a row may become several events).
 */
export const FLOW_COLUMNS = ['table', 'module', 'type', 'outcome'] as const;
export type FlowColumn = (typeof FLOW_COLUMNS)[number];

export const OUTCOMES = ['delivered', 'in the data set', 'arrived at tap', 'missing at tap', 'unroutable', 'not selected', 'rejected', 'dropped', 'not read', 'unaccounted'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface FlowNode {
  readonly id: string;
  readonly column: FlowColumn;
  readonly label: string;
}

export interface FlowLink {
  readonly from: string;
  readonly to: string;
  readonly count: number;
  readonly unit: 'rows' | 'events';
}

export interface Flow {
  readonly nodes: readonly FlowNode[];
  readonly links: readonly FlowLink[];
}

export function buildFlow(
  dumpRows: Readonly<Record<string, number>>,
  info: TransformInfo,
  scan: EventScan,
  seed?: { readonly returned: Readonly<Record<string, number>> },
  tap?: TapVerdict,
): Flow {
  const nodes = new Map<string, FlowNode>();
  const links: FlowLink[] = [];
  const node = (column: FlowColumn, label: string) => {
    const id = `${column}:${label}`;
    if (!nodes.has(id)) nodes.set(id, { id, column, label });
    return id;
  };
  const link = (from: string, to: string, count: number, unit: FlowLink['unit']) => {
    if (count > 0) links.push({ from, to, count, unit });
  };
  const read = new Set<string>();
  for (const [module, tables] of Object.entries(info.rowsByModule ?? {})) {
    for (const [table, o] of Object.entries(tables)) {
      read.add(table);
      link(node('table', table), node('module', module), o.read, 'rows');
      link(node('module', module), node('outcome', 'rejected'), o.rejected, 'rows');
      link(node('module', module), node('outcome', 'dropped'), o.dropped, 'rows');
      const unread = (dumpRows[table] ?? 0) - o.read;
      if (unread > 0) link(node('table', table), node('outcome', 'not read'), unread, 'rows');
    }
  }
  for (const [table, rows] of Object.entries(dumpRows)) if (!read.has(table)) link(node('table', table), node('outcome', 'not read'), rows, 'rows');
  for (const [type, n] of Object.entries(info.eventsByType ?? {})) {
    const module = type.slice(0, type.indexOf('.'));
    link(node('module', module), node('type', type), n, 'events');
    const t = scan.byType.get(type);
    const lost = n - (t?.read ?? 0);
    link(node('type', type), node('outcome', 'unaccounted'), lost, 'events');
    if (!t) continue;
    if (!seed) {
      link(node('type', type), node('outcome', 'in the data set'), t.read, 'events');
      continue;
    }
    const unroutable = seed.returned[type] ?? 0;
    const notSelected = t.read - t.selected - (t.notSelected.resumed ?? 0);
    link(node('type', type), node('outcome', 'unroutable'), unroutable, 'events');
    link(node('type', type), node('outcome', 'not selected'), notSelected, 'events');
    const routed = t.read - unroutable - notSelected;
    const seen = tap?.byType[type];
    if (seen) {
      link(node('type', type), node('outcome', 'arrived at tap'), Math.min(routed, seen.arrived), 'events');
      link(node('type', type), node('outcome', 'missing at tap'), routed - Math.min(routed, seen.arrived), 'events');
    } else {
      link(node('type', type), node('outcome', 'delivered'), routed, 'events');
    }
  }
  const used = new Set(links.flatMap((l) => [l.from, l.to]));
  // Tables and types in the order of the modules they feed / come from: fewer crossing bands.
  const moduleRank = (m: string) => (MODULES.findIndex((x) => x.name === m) + 1 || 99);
  const tableRank = new Map<string, number>();
  for (const l of links) if (l.from.startsWith('table:') && l.to.startsWith('module:')) tableRank.set(l.from, Math.min(tableRank.get(l.from) ?? 99, moduleRank(l.to.slice(7))));
  const order = (n: FlowNode) => {
    if (n.column === 'outcome') return OUTCOMES.indexOf(n.label as Outcome);
    if (n.column === 'module') return moduleRank(n.label);
    if (n.column === 'type') return moduleRank(n.label.slice(0, n.label.indexOf('.')));
    return tableRank.get(n.id) ?? 100;
  };
  return { nodes: [...nodes.values()].filter((n) => used.has(n.id)).sort((a, b) => order(a) - order(b)), links };
}
