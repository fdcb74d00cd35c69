import type { Manifest, PartSnapshot } from '../recordfile/index.ts';

/**
 * A resumed extract reads in a new snapshot: parts kept from the earlier run hold the rows as
 * they were then, the new parts as they are now. Each part records its snapshot
 * (`parts[].snapshot`); this says which streams therefore span more than one.
 */
export interface SnapshotSpan {
  readonly stream: string;
  /** Oldest first: when each snapshot was taken and how many of the stream's parts were read in it. */
  readonly snapshots: readonly { readonly at: string; readonly id?: string; readonly parts: number }[];
}

export function snapshotSpans(manifest: Manifest): SnapshotSpan[] {
  const spans: SnapshotSpan[] = [];
  for (const [stream, entry] of Object.entries(manifest.streams)) {
    const byAt = new Map<string, { at: string; id?: string; parts: number }>();
    for (const part of entry.parts) {
      const at = part.snapshot?.at ?? 'unknown (not recorded)';
      const seen = byAt.get(at) ?? { at, ...(part.snapshot?.id ? { id: part.snapshot.id } : {}), parts: 0 };
      seen.parts++;
      byAt.set(at, seen);
    }
    if (byAt.size > 1) spans.push({ stream, snapshots: [...byAt.values()].sort((a, b) => (a.at < b.at ? -1 : 1)) });
  }
  return spans;
}

/** One line per stream that spans snapshots, for the end of extract and for verify. */
export function describeSpans(spans: readonly SnapshotSpan[]): string[] {
  return spans.map(
    (s) => `${s.stream} spans ${s.snapshots.length} snapshots (${s.snapshots.map((x) => `${x.parts} part${x.parts === 1 ? '' : 's'} read in the one of ${x.at}`).join(', ')})`,
  );
}

export const REDO_HINT = 'rows changed between them may be missing or doubled there; to read each such table again in one snapshot: seedline extract … --resume --redo-partial';

/** The part-level record of the snapshot a part was read in. */
export function partSnapshot(snapshot: Readonly<Record<string, unknown>>): PartSnapshot {
  const id = snapshot.exportedSnapshot ?? snapshot.id;
  return { at: String(snapshot.at), ...(typeof id === 'string' ? { id } : {}) };
}
