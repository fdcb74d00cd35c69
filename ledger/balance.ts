/**
 * One balance of the ledger: a total one stage recorded, and the terms it must split into at
 * the next stage. `ok` terms went on; `loss` terms were left behind for a recorded reason
 * (rejected, not selected, unroutable); whatever is left over is `unaccounted` — the only thing
 * that makes the ledger fail.
 */
export const STAGES = ['extract', 'transform', 'events', 'seed', 'tap'] as const;
export type Stage = (typeof STAGES)[number];

export type TermKind = 'ok' | 'loss' | 'unaccounted';

export interface Term {
  readonly label: string;
  readonly count: number;
  readonly kind: TermKind;
}

export interface Balance {
  readonly stage: Stage;
  /** What is balanced: `Messages`, `chat ← Messages`, `chat.message-sent`, `run seed-…`. */
  readonly subject: string;
  readonly total: { readonly label: string; readonly count: number };
  readonly terms: readonly Term[];
  /** Figures beside the balance that are not part of it (duplicates delivered, where a file is). */
  readonly notes?: readonly string[];
}

/**
 * A balance whose terms must add up to `total`: a difference becomes an `unaccounted` term
 * (named by `missingLabel`, or by `extraLabel` when the terms hold more than the total).
 * Zero `loss` terms are left out, so a balance lists only what happened.
 */
export function balance(
  stage: Stage,
  subject: string,
  total: { label: string; count: number },
  terms: readonly Term[],
  options: { missingLabel?: string; extraLabel?: string; notes?: readonly string[] } = {},
): Balance {
  const kept = terms.filter((t) => t.count !== 0 || t.kind === 'ok');
  const sum = kept.reduce((n, t) => n + t.count, 0);
  const difference = total.count - sum;
  if (difference > 0) kept.push({ label: options.missingLabel ?? 'unaccounted for', count: difference, kind: 'unaccounted' });
  if (difference < 0) kept.push({ label: options.extraLabel ?? `more than the ${total.label}`, count: -difference, kind: 'unaccounted' });
  return { stage, subject, total, terms: kept, ...(options.notes && options.notes.length > 0 ? { notes: options.notes } : {}) };
}

export const ok = (label: string, count: number): Term => ({ label, count, kind: 'ok' });
export const loss = (label: string, count: number): Term => ({ label, count, kind: 'loss' });
export const unaccounted = (label: string, count: number): Term => ({ label, count, kind: 'unaccounted' });

export function isClosed(b: Balance): boolean {
  return b.terms.every((t) => t.kind !== 'unaccounted' || t.count === 0);
}

/** Every unaccounted term, with the balance it belongs to. */
export function openItems(balances: readonly Balance[]): { readonly stage: Stage; readonly subject: string; readonly label: string; readonly count: number }[] {
  return balances.flatMap((b) => b.terms.filter((t) => t.kind === 'unaccounted' && t.count !== 0).map((t) => ({ stage: b.stage, subject: b.subject, label: t.label, count: t.count })));
}
