import type { Manifest } from '../recordfile/index.ts';
import { describeSpans, REDO_HINT, snapshotSpans, type SnapshotSpan } from './snapshots.ts';

/**
 * What a dump's manifest records that a reader needs in order to trust it, beyond sizes and
 * hashes: the snapshot(s) its rows were read in and the options that shaped its records.
 * `verify` prints it.
 */
export interface RecordedFacts {
  readonly snapshot?: Readonly<Record<string, unknown>>;
  readonly options?: Readonly<Record<string, unknown>>;
  readonly snapshotSpans: readonly SnapshotSpan[];
  /** Per stream: columns left out and masked, and the .proto's sha256 (extract's `info.shape`). */
  readonly shapes: Readonly<Record<string, unknown>>;
}

export function recordedFacts(manifest: Manifest): RecordedFacts {
  const shapes: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(manifest.streams)) if (s.info?.shape) shapes[name] = s.info.shape;
  return {
    ...(manifest.producer.snapshot ? { snapshot: manifest.producer.snapshot } : {}),
    ...(manifest.producer.options ? { options: manifest.producer.options } : {}),
    snapshotSpans: snapshotSpans(manifest),
    shapes,
  };
}

export function describeFacts(facts: RecordedFacts): string[] {
  const lines: string[] = [];
  const s = facts.snapshot;
  if (s) {
    const earlier = s.resumedFrom as Record<string, unknown> | undefined;
    lines.push(`  snapshot: taken ${String(s.at ?? '?')}${s.isolation ? `, ${String(s.isolation)}` : ''}${earlier ? ` (resumed; the first run's was taken ${String(earlier.at ?? '?')})` : ''}`);
  }
  const o = facts.options;
  if (o) lines.push(`  options: source time zone ${o.sourceTimezone ?? 'none'}, type mapping version ${String(o.typeMappingVersion)}`);
  for (const [stream, shape] of Object.entries(facts.shapes)) {
    const t = shape as { excluded?: string[]; masked?: Record<string, string>; protoSha256?: string };
    const masked = Object.entries(t.masked ?? {}).map(([c, m]) => `${c} (${m})`);
    if (t.excluded?.length || masked.length) {
      lines.push(`  ${stream}: ${[t.excluded?.length ? `left out ${t.excluded.join(', ')}` : '', masked.length ? `masked ${masked.join(', ')}` : ''].filter(Boolean).join('; ')}`);
    }
  }
  const spans = describeSpans(facts.snapshotSpans);
  for (const span of spans) lines.push(`  note: ${span}`);
  if (spans.length) lines.push(`    ${REDO_HINT}`);
  return lines;
}
