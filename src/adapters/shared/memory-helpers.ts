/** Filtering, ordering and top-k selection shared by every persona-memory adapter. */
import type { PersonaMemory } from '../../domain/schemas.ts';
import type { MemoryFilter, MemoryHit, MemoryRecord } from '../../ports/persona-memory.ts';

export function matchesMemoryFilter(r: PersonaMemory, f: MemoryFilter): boolean {
  if (f.persona_id !== undefined && r.persona_id !== f.persona_id) return false;
  if (f.categories !== undefined && !f.categories.includes(r.category)) return false;
  return true;
}

export function stripVector(r: MemoryRecord): PersonaMemory {
  return { id: r.id, persona_id: r.persona_id, content: r.content, category: r.category, timestamp: r.timestamp };
}

export function byTimestampThenId(a: PersonaMemory, b: PersonaMemory): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The contract's hit order: score descending, then id ascending. */
export function compareHits(a: MemoryHit, b: MemoryHit): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.memory.id < b.memory.id ? -1 : a.memory.id > b.memory.id ? 1 : 0;
}

/** Keeps the k best (score desc, id asc) of what it is offered. */
export class TopK<T extends { id: string }> {
  // parallel lists, best first: no [item, score] pair per offer
  readonly items: T[] = [];
  readonly scores: number[] = [];
  constructor(private readonly k: number) {}

  /** True when (item, score) ranks before position i: higher score, then smaller id. */
  private before(item: T, score: number, i: number): boolean {
    const s = this.scores[i] as number;
    return score > s || (score === s && item.id < (this.items[i] as T).id);
  }

  offer(item: T, score: number): void {
    const n = this.items.length;
    if (this.k <= 0 || (n === this.k && !this.before(item, score, n - 1))) return;
    let i = n;
    while (i > 0 && this.before(item, score, i - 1)) i--;
    this.items.splice(i, 0, item);
    this.scores.splice(i, 0, score);
    if (this.items.length > this.k) {
      this.items.pop();
      this.scores.pop();
    }
  }

  result(): [T, number][] {
    return this.items.map((it, i) => [it, this.scores[i] as number]);
  }
}
