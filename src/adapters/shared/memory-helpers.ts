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
  private items: [T, number][] = [];
  constructor(private readonly k: number) {}

  private better(a: [T, number], b: [T, number]): boolean {
    return a[1] > b[1] || (a[1] === b[1] && a[0].id < b[0].id);
  }

  offer(item: T, score: number): void {
    if (this.k <= 0) return;
    const items = this.items;
    if (items.length === this.k) {
      // most offers lose to the current k-th: decide that before allocating an entry
      const last = items[items.length - 1] as [T, number];
      if (!(score > last[1] || (score === last[1] && item.id < last[0].id))) return;
    }
    const entry: [T, number] = [item, score];
    let i = items.length;
    while (i > 0 && this.better(entry, items[i - 1] as [T, number])) i--;
    items.splice(i, 0, entry);
    if (items.length > this.k) items.pop();
  }

  result(): [T, number][] {
    return this.items;
  }
}
