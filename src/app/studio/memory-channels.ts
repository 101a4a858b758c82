/**
 * The 'memory/…' channels: the personas and their memory counts, semantic search (k, minimum
 * score), browsing, adding, editing and deleting memories (each audited as the studio user),
 * and which model embeds them.
 */
import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../../domain/errors.ts';
import type { PersonaMemory } from '../../domain/schemas.ts';
import { localModel } from '../../config/embedders.ts';
import type { EmbedderView, MemoryView } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';
import { STUDIO_ACTOR, type Session } from './session.ts';

type MemoryContext = Pick<StudioContext, 'current' | 'exclusive' | 'config'>;

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
        // the minimum applies to the score as shown (rounded to 4 places)
        hits: hits.map((h) => ({ ...h.memory, score: Math.round(h.score * 10_000) / 10_000 })).filter((h) => a.min_score === undefined || h.score >= a.min_score),
        model_id: s.sim.ports.embedder.model_id,
        exact: s.sim.ports.memory.capabilities.exact,
      };
    },
    'memory/list': async (a) => {
      const s = ctx.current();
      const filter = { ...(a.persona_id ? { persona_id: a.persona_id } : {}), ...(a.categories?.length ? { categories: a.categories } : {}) };
      const total = await s.sim.ports.memory.count(filter);
      const memories = await s.sim.ports.memory.list(filter, a.limit, a.offset);
      return { total, offset: a.offset, memories: memories.map(memoryView) };
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
        await auditMemory(s, 'memory.added', id, { persona_id: a.persona_id, category: a.category, chars: a.content.length });
        return { id };
      }),
    'memory/update': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        const cur = await s.sim.ports.memory.get(a.id);
        if (!cur) throw new NotFoundError('memory', a.id);
        // the same memory (id, persona, time it was formed) with new text, embedded again by the current model
        const [vector] = await s.sim.ports.embedder.embed([a.content]);
        const next: PersonaMemory = { ...cur, content: a.content, category: a.category ?? cur.category };
        await s.sim.ports.memory.upsert([{ ...next, vector: vector as Float32Array, model_id: s.sim.ports.embedder.model_id }]);
        await auditMemory(s, 'memory.edited', a.id, { persona_id: cur.persona_id, category: next.category, ...(next.category !== cur.category ? { was: cur.category } : {}), chars: a.content.length });
        return { memory: memoryView(next) };
      }),
    'memory/delete': async (a) =>
      ctx.exclusive(async () => {
        const s = ctx.current();
        const cur = await s.sim.ports.memory.get(a.id);
        if (!cur) return { deleted: false };
        const n = await s.sim.ports.memory.delete([a.id]);
        if (n > 0) await auditMemory(s, 'memory.deleted', a.id, { persona_id: cur.persona_id, category: cur.category, chars: cur.content.length });
        return { deleted: n > 0 };
      }),
    'memory/model': async () => embedderView(ctx.config, ctx.current()),
  };
}

function memoryView(m: PersonaMemory): MemoryView {
  return { id: m.id, persona_id: m.persona_id, content: m.content, category: m.category, timestamp: m.timestamp };
}

/** A person's change to persona memory goes on the audit trail (outside the engine: a replay does not repeat it). */
async function auditMemory(s: Session, action: 'memory.added' | 'memory.edited' | 'memory.deleted', id: string, details: Record<string, unknown>): Promise<void> {
  const timestamp = s.sim.engine.now();
  await s.sim.ports.state.transaction(async (tx) => {
    await tx.appendAudit({
      id: randomUUID(),
      actor: STUDIO_ACTOR,
      action,
      entity_type: 'memory',
      entity_id: id,
      campaign_id: null,
      before_status: null,
      after_status: null,
      state_version: null,
      timestamp,
      details,
    });
  });
}

async function embedderView(config: MemoryContext['config'], s: Session): Promise<EmbedderView> {
  const e = s.sim.ports.embedder;
  const local = localModel(config);
  const stand_in = e.model_id.startsWith('hashing');
  const stored = await s.sim.ports.memory.model();
  return {
    model_id: e.model_id,
    dimensions: e.dimensions,
    stand_in,
    configured: config.embedder.kind,
    model: local.model,
    model_folder: local.folder,
    model_installed: local.missing.length === 0,
    notice: stand_in && config.embedder.kind !== 'hashing' ? (s.sim.ports.notices.find((n) => n.includes(local.model)) ?? `${local.model} could not load`) : null,
    install_step: 'CHIMERA_EMBEDDER=transformers CHIMERA_ALLOW_DOWNLOADS=1 npm start',
    offline_step: 'CHIMERA_EMBEDDER=transformers npm start',
    stored_model_id: stored?.model_id ?? null,
  };
}
