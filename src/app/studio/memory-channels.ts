/** The 'memory/…' channels: the personas and their memory counts, semantic search, adding a memory (audited). */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../../domain/errors.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';

type MemoryContext = Pick<StudioContext, 'current' | 'exclusive'>;

export function memoryChannels(ctx: MemoryContext): NamespaceHandlers<'memory'> {
  return {
    'memory/personas': async () => {
      const s = ctx.current();
      const ids = [...new Set([...s.sim.loaded.personas.map((p) => p.id), ...(await s.sim.ports.personaCache.list())])].sort();
      const personas = [];
      for (const id of ids) personas.push({ id, memories: await s.sim.ports.memory.count({ persona_id: id }) });
      return { personas };
    },
    'memory/search': async (a) => {
      const s = ctx.current();
      const [vector] = await s.sim.ports.embedder.embed([a.query]);
      const hits = await s.sim.ports.memory.search({
        vector: vector as Float32Array,
        k: a.k ?? 10,
        ...(a.persona_id ? { persona_id: a.persona_id } : {}),
        ...(a.categories?.length ? { categories: a.categories } : {}),
      });
      return {
        hits: hits.map((h) => ({ ...h.memory, score: Math.round(h.score * 10_000) / 10_000 })),
        model_id: s.sim.ports.embedder.model_id,
        exact: s.sim.ports.memory.capabilities.exact,
      };
    },
    'memory/add': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        if (!(await s.sim.ports.personaCache.get(a.persona_id)) && !s.sim.loaded.personas.some((p) => p.id === a.persona_id)) {
          throw new ValidationError(`persona_id: unknown persona "${a.persona_id}"`);
        }
        const [vector] = await s.sim.ports.embedder.embed([a.content]);
        const id = `studio-${randomUUID()}`;
        const timestamp = s.sim.engine.now();
        await s.sim.ports.memory.upsert([
          { id, persona_id: a.persona_id, content: a.content, category: a.category, timestamp, vector: vector as Float32Array, model_id: s.sim.ports.embedder.model_id },
        ]);
        // a person's action, so it goes on the audit trail (outside the engine: a replay does not repeat it)
        await s.sim.ports.state.transaction(async (tx) => {
          await tx.appendAudit({
            id: randomUUID(),
            actor: 'studio-user',
            action: 'memory.added',
            entity_type: 'memory',
            entity_id: id,
            campaign_id: null,
            before_status: null,
            after_status: null,
            state_version: null,
            timestamp,
            details: { persona_id: a.persona_id, category: a.category, chars: a.content.length },
          });
        });
        return { id };
      }),
  };
}
