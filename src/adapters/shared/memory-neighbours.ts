/**
 * The nearest memories to a query vector, as every persona-memory reader reports them
 * (src/ports/readers.ts `PersonaMemoryReader.search`): cosine distance 1 − cos computed here with
 * domain/vectors.ts `dot` over the float32 vectors (the same arithmetic as the stores' scores,
 * so a distance is 1 − the score the exact adapter gives), nearest first with ties by id, and a
 * tally of what could not be compared (a vector of another model or length).
 */
import { dot } from '../../domain/vectors.ts';
import type { MemoryNeighbour, MemorySearchQuery, MemorySearchResult } from '../../ports/readers.ts';
import { TopK } from './memory-helpers.ts';

/** How a left-out vector's model is named: `model (dims)`, `(not recorded)` for a store that kept none. */
export function modelLabel(model_id: string | null, dimensions: number | null): string {
  return `${model_id ?? '(not recorded)'}${dimensions === null ? '' : ` (${dimensions})`}`;
}

/** Cosine distance between the query (with its norm) and a stored vector: 1 − cos; a zero vector is at distance 1. */
export function cosineDistance(q: Float32Array, qn: number, v: Float32Array): number {
  const n = Math.sqrt(dot(v, v));
  return 1 - (n === 0 ? 0 : dot(q, v) / (qn * n));
}

/** Nearest first: distance ascending, then id ascending. */
export function nearestFirst<T extends { readonly distance: number; readonly id: string }>(a: T, b: T): number {
  if (a.distance !== b.distance) return a.distance - b.distance;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A candidate's row, or how to read it (a scan reads and checks only the rows it keeps). */
export type LazyRow = MemoryNeighbour['row'] | (() => MemoryNeighbour['row']);

/** Collects candidates one by one and keeps the k nearest. */
export class NearestMemories {
  private readonly top: TopK<{ id: string; row: LazyRow }>;
  private readonly qn: number;
  private leftOut = 0;
  private readonly models = new Set<string>();

  constructor(private readonly q: MemorySearchQuery) {
    this.top = new TopK(q.k);
    this.qn = Math.sqrt(dot(q.vector, q.vector)) || 1;
  }

  /**
   * One stored memory: its id (for ties), its row as read (or a function reading it, called only
   * for the k kept), its vector (null: none stored) and recorded model (null: none recorded,
   * compared when the length fits). The vector is not kept: a caller may reuse its buffer.
   */
  offer(id: string, row: LazyRow, vector: Float32Array | null, model_id: string | null): void {
    if (vector === null || vector.length !== this.q.vector.length || (model_id !== null && model_id !== this.q.model_id)) {
      this.leaveOut(1, modelLabel(model_id, vector?.length ?? null));
      return;
    }
    // TopK keeps the highest score, ties by smaller id: the negated distance ranks nearest first
    this.top.offer({ id, row }, -cosineDistance(this.q.vector, this.qn, vector));
  }

  /** Memories that cannot be compared, counted without being offered (a store of another model). */
  leaveOut(n: number, label: string): void {
    if (n <= 0) return;
    this.leftOut += n;
    this.models.add(label);
  }

  /** The k nearest (distance ascending, then id), with the tally of what was left out. */
  result(exact: boolean): MemorySearchResult {
    const items = this.top
      .result()
      .map(([h, s]) => ({ id: h.id, row: h.row, distance: -s }))
      .sort(nearestFirst)
      .map(({ row, distance }) => ({ row: typeof row === 'function' ? row() : row, distance }));
    return { items, exact, left_out: this.leftOut, left_out_models: [...this.models].sort() };
  }

  /** How many candidates are kept so far. */
  get size(): number {
    return this.top.items.length;
  }
}
