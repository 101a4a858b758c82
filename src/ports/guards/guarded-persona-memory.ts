/**
 * Written once around any persona-memory adapter: records are validated, and vectors from a
 * second embedding model (or of another length) are refused instead of being mixed into the
 * index, which would make every similarity meaningless.
 */
import { ModelMismatchError, ValidationError } from '../../domain/errors.ts';
import { PersonaMemorySchema, parseOrThrow } from '../../domain/schemas.ts';
import { checkVector } from '../../adapters/shared/vector.ts';
import { fastMemoryRecord } from './fast-checks.ts';
import type { MemoryRecord, PersonaMemoryStore } from '../persona-memory.ts';

export function guardPersonaMemory(inner: PersonaMemoryStore): PersonaMemoryStore {
  // the index's model as last read: an upsert of that model's vectors keeps it, a delete (which
  // may empty the store) drops it, and a null answer is never kept (another writer may fill it)
  let known: { model_id: string; dimensions: number } | null = null;
  const model = async () => known ?? (known = await inner.model());
  return {
    kind: inner.kind,
    capabilities: inner.capabilities,
    async upsert(records: readonly MemoryRecord[]) {
      if (records.length === 0) return;
      const current = await model();
      const first = records[0] as MemoryRecord;
      const model_id = current?.model_id ?? first.model_id;
      const dims = current?.dimensions ?? first.vector?.length;
      records.forEach((r, i) => {
        const { vector, model_id: m } = r;
        if (!fastMemoryRecord(r)) {
          const { vector: _v, model_id: _m, ...mem } = r;
          parseOrThrow(PersonaMemorySchema, mem, `memory [${i}]`);
        }
        if (typeof m !== 'string' || !m) throw new ValidationError(`invalid memory [${i}]: model_id is missing`);
        if (m !== model_id) {
          throw new ModelMismatchError(
            `memory [${i}] (${r.id}) was embedded with "${m}" but the index holds vectors of "${model_id}"; re-embed the memories (chimera memory reindex) or use a separate index`,
            { index_model: model_id, record_model: m },
          );
        }
        checkVector(vector, dims as number, `memory [${i}] (${r.id})`);
      });
      // records of the index's own model leave it as it was; a first upsert sets it (read again)
      if (!current) known = null;
      return inner.upsert(records);
    },
    async search(q) {
      if (!Number.isInteger(q.k) || q.k < 1 || q.k > 10_000) throw new ValidationError(`invalid search: k must be 1..10000, got ${q.k}`);
      const current = await model();
      if (current) checkVector(q.vector, current.dimensions, 'search query');
      return inner.search(q);
    },
    get: (id) => inner.get(id),
    list: (f, limit, offset) => inner.list(f, limit, offset),
    delete: (ids) => {
      known = null;
      return inner.delete(ids);
    },
    count: (f) => inner.count(f),
    model: () => inner.model(),
    close: () => inner.close(),
  };
}
