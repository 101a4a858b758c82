/**
 * Written once around any persona-memory adapter: records are validated, and vectors from a
 * second embedding model (or of another length) are refused instead of being mixed into the
 * index, which would make every similarity meaningless.
 */
import { ModelMismatchError, ValidationError } from '../../domain/errors.ts';
import { PersonaMemorySchema, parseOrThrow } from '../../domain/schemas.ts';
import { checkVector } from '../../domain/vectors.ts';
import { fastMemoryRecord } from './fast-checks.ts';
import type { MemoryQuery, MemoryRecord, PersonaMemoryStore } from '../persona-memory.ts';

type ModelInfo = { model_id: string; dimensions: number };

/** Refuses a record that is malformed or not of the index's model (`current`; null: an empty index takes the first record's). */
function checkRecords(records: readonly MemoryRecord[], current: ModelInfo | null): void {
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
}

function checkK(q: MemoryQuery): void {
  if (!Number.isInteger(q.k) || q.k < 1 || q.k > 10_000) throw new ValidationError(`invalid search: k must be 1..10000, got ${q.k}`);
}

export function guardPersonaMemory(inner: PersonaMemoryStore): PersonaMemoryStore {
  // the index's model as last read: an upsert of that model's vectors keeps it, a delete (which
  // may empty the store) drops it, and a null answer is never kept (another writer may fill it).
  // While it is known, a call is checked and handed over without an await of its own.
  let known: ModelInfo | null = null;
  const model = async () => known ?? (known = await inner.model());

  async function upsertReading(records: readonly MemoryRecord[]): Promise<void> {
    const current = await model();
    checkRecords(records, current);
    // a first upsert sets the model: read it again next time
    if (!current) known = null;
    return inner.upsert(records);
  }

  async function searchReading(q: MemoryQuery) {
    const current = await model();
    if (current) checkVector(q.vector, current.dimensions, 'search query');
    return inner.search(q);
  }

  return {
    kind: inner.kind,
    capabilities: inner.capabilities,
    upsert(records) {
      if (records.length === 0) return Promise.resolve();
      if (!known) return upsertReading(records);
      try {
        checkRecords(records, known);
      } catch (e) {
        return Promise.reject(e);
      }
      return inner.upsert(records);
    },
    search(q) {
      try {
        checkK(q);
        if (known) {
          checkVector(q.vector, known.dimensions, 'search query');
          return inner.search(q);
        }
      } catch (e) {
        return Promise.reject(e);
      }
      return searchReading(q);
    },
    get: (id) => inner.get(id),
    list: (f, limit, offset) => inner.list(f, limit, offset),
    delete: (ids) => {
      known = null;
      return inner.delete(ids);
    },
    count: (f) => inner.count(f),
    model: () => inner.model(),
    ...(inner.scan ? { scan: (cursor: string | null, limit: number) => (inner.scan as NonNullable<PersonaMemoryStore['scan']>).call(inner, cursor, limit) } : {}),
    close: () => inner.close(),
  };
}
