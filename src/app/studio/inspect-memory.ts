/**
 * The Inspector's persona memory channels ('inspect/memories', 'inspect/memory',
 * 'inspect/memory-search'): read-only, like every 'inspect/…' channel.
 *
 * Where the memories are read (`source` in every answer):
 * - 'store': the profile's own store through its inspection readers, opened read-only and kept
 *   open between calls (studio/inspect-pool.ts; a SQLite profile's `persona-memory/rows.sqlite`;
 *   production's Weaviate class, whoever wrote it);
 * - 'session': this session's persona memory port, where the profile keeps its memory nowhere
 *   else: the in-memory profile, production without Weaviate (each process keeps its own
 *   index), a store that has kept no memory yet.
 *
 * A search embeds the plain-words query with the session's embedder: the app's configured one
 * (src/config/embedders.ts: hashing by default, transformers.js from the local model folder when
 * configured), already open and on this machine, so nothing goes over the network and a
 * transformers model is not loaded again per query. Distances are cosine distances computed by
 * the reader (src/ports/readers.ts), the same number on every backend.
 */
import { memoryStoreReader } from '../../config/memory-store-reader.ts';
import type { ChimeraHandlers } from '../../shared/contract.ts';
import type { InspectMemorySource, InspectRowView, MemoryView } from '../../shared/types.ts';
import type { ReadRow } from '../../ports/readers.ts';
import type { PersonaMemory } from '../../domain/schemas.ts';
import { InspectSession } from '../inspect-session.ts';
import type { StudioContext } from './context.ts';
import { inspectedConfig, type InspectTargetArgs } from './inspect-channels.ts';
import { borrowed } from './inspect-pool.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { Session } from './session.ts';

type MemoryInspectContext = Pick<StudioContext, 'current' | 'config' | 'connectionConfig' | 'inspectReaders'>;
type MemoryChannel = 'inspect/memories' | 'inspect/memory' | 'inspect/memory-search';

const DEFAULT_LIMIT = 50;
const DEFAULT_K = 10;

/**
 * Runs fn on a read-only inspection of the current profile's persona memory: the store's
 * readers when they serve memory, else the session's own memory port.
 */
async function withMemory<T>(ctx: MemoryInspectContext, a: InspectTargetArgs, fn: (s: InspectSession, source: InspectMemorySource, session: Session) => Promise<T>): Promise<T> {
  const session = ctx.current();
  const named = a.target !== undefined || a.connection !== undefined;
  const config = await inspectedConfig(ctx, a);
  if (config) {
    const read = await ctx.inspectReaders.use(config, async (readers) => {
      const s = await InspectSession.open(borrowed(readers));
      return s.serves.includes('memory') ? { value: await fn(s, 'store', session) } : null;
    });
    if (read) return read.value;
  }
  // a deployment named by the call is not this session: its memory is its store's or none
  if (named) throw new ValidationError(`${a.connection !== undefined ? `connection "${a.connection}"` : `the ${a.target} deployment`} keeps no persona memory to read: without Weaviate each process keeps its own`);
  const s = await InspectSession.open({ kind: session.profile.kind, memory: memoryStoreReader(session.sim.ports.memory), close: async () => {} });
  try {
    return await fn(s, 'session', session);
  } finally {
    await s.close();
  }
}

/** A reader's memory row as the wire carries it (a bad row keeps its raw value and problem). */
function memoryRow(r: ReadRow<PersonaMemory>): InspectRowView<MemoryView> {
  return r.ok ? { ok: true, value: { ...r.value } } : { ok: false, raw: JSON.parse(JSON.stringify(r.raw ?? null)) as unknown, problem: r.problem };
}

export function inspectMemoryChannels(ctx: MemoryInspectContext): Pick<ChimeraHandlers, MemoryChannel> {
  return {
    'inspect/memories': (a) =>
      withMemory(ctx, a, async (s, source) => {
        const filter = { ...(a.persona_id ? { persona_id: a.persona_id } : {}), ...(a.category ? { categories: [a.category] } : {}) };
        const page = await s.memories({ ...filter, cursor: a.cursor ?? null, limit: a.limit ?? DEFAULT_LIMIT });
        return { backend: s.kind, source, items: page.items.map(memoryRow), next_cursor: page.next_cursor, total: await s.countMemories(filter) };
      }),
    'inspect/memory': (a) =>
      withMemory(ctx, a, async (s, source) => {
        const o = await s.memory(a.id);
        return {
          backend: s.kind,
          source,
          object: o && { row: memoryRow(o.row), properties: JSON.parse(JSON.stringify(o.properties)) as Record<string, unknown>, model_id: o.model_id, dimensions: o.dimensions },
        };
      }),
    'inspect/memory-search': (a) =>
      withMemory(ctx, a, async (s, source, session) => {
        const r = await s.searchMemories(session.sim.ports.embedder, {
          query: a.query,
          k: a.k ?? DEFAULT_K,
          ...(a.persona_id ? { persona_id: a.persona_id } : {}),
          ...(a.category ? { categories: [a.category] } : {}),
        });
        return {
          backend: s.kind,
          source,
          metric: r.metric,
          embedder: r.embedder,
          exact: r.exact,
          items: r.items.map((n) => ({ ...memoryRow(n.row), distance: n.distance })),
          left_out: r.left_out,
          left_out_models: [...r.left_out_models],
        };
      }),
  };
}
