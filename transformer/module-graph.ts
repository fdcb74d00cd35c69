import { LOOKUPS } from './lookups/index.ts';
import type { EventModule } from './module.ts';
import { MODULES } from './modules/index.ts';

/** What `seedline modules` shows: the modules, the tables they read and the events they emit. */
export interface ModuleInfo {
  readonly name: string;
  readonly description: string;
  readonly reads: readonly string[];
  /** Tables read through lookups (a first pass), e.g. Members for chat. */
  readonly looksUp: readonly string[];
  readonly emits: readonly string[];
  readonly schema: string;
}

export function describeModules(modules: readonly EventModule[] = MODULES): ModuleInfo[] {
  return modules.map((m) => ({
    name: m.name,
    description: m.description,
    reads: m.reads,
    looksUp: m.lookups.map((name) => LOOKUPS.find((l) => l.name === name)!.table),
    emits: Object.keys(m.emits),
    schema: `schemas/events/${m.schema}`,
  }));
}

/** A plain-text table of the modules. */
export function formatModules(infos: readonly ModuleInfo[]): string {
  const width = Math.max(...infos.map((i) => i.name.length));
  const lines: string[] = [];
  for (const i of infos) {
    const looks = i.looksUp.length > 0 ? ` (looks up ${i.looksUp.join(', ')})` : '';
    lines.push(`${i.name.padEnd(width)}  ${i.description}`);
    lines.push(`${' '.repeat(width)}  reads ${i.reads.join(', ')}${looks} → ${i.emits.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Graphviz dot of table → module → event type. Solid edges: the tables a module turns into
 * events; dashed: tables it only looks things up in. Deterministic text, so it can be committed.
 */
export function moduleGraph(infos: readonly ModuleInfo[]): string {
  const q = (s: string) => JSON.stringify(s);
  const tables = [...new Set(infos.flatMap((i) => [...i.reads, ...i.looksUp]))];
  const out = [
    'digraph seedline {',
    '  rankdir=LR;',
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [color="#555555"];',
    '  subgraph tables { rank=same; node [shape=cylinder, style=filled, fillcolor="#e8eef7"];',
    ...tables.map((t) => `    ${q(`table:${t}`)} [label=${q(`dbo.${t}`)}];`),
    '  }',
    '  subgraph modules { rank=same; node [shape=box, style="rounded,filled", fillcolor="#fff2cc"];',
    ...infos.map((i) => `    ${q(`module:${i.name}`)} [label=${q(i.name)}];`),
    '  }',
    '  subgraph events { rank=same; node [shape=box, style=filled, fillcolor="#e2f0d9"];',
    ...infos.flatMap((i) => i.emits.map((e) => `    ${q(`event:${e}`)} [label=${q(e)}];`)),
    '  }',
  ];
  for (const i of infos) {
    for (const t of i.reads) out.push(`  ${q(`table:${t}`)} -> ${q(`module:${i.name}`)};`);
    for (const t of i.looksUp) {
      if (!i.reads.includes(t)) out.push(`  ${q(`table:${t}`)} -> ${q(`module:${i.name}`)} [style=dashed, label="lookup"];`);
    }
    for (const e of i.emits) out.push(`  ${q(`module:${i.name}`)} -> ${q(`event:${e}`)};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
