/** `chimera memory search --persona ID [--category C] [--k N] "text" [--json]`: the k nearest memories to a text. */
import { ModelMismatchError } from '../../domain/errors.ts';
import { readOnlyConfig } from '../../config/backends/sqlite.ts';
import { MEMORY_CATEGORIES, type MemoryCategory } from '../../domain/schemas.ts';
import { UsageError, intFlag, personaFlag, type Command } from '../command.ts';
import { MEMORY_FLAGS, MEMORY_FLAGS_USAGE, memoryConfig, openMemoryPorts } from './memory-options.ts';

function categories(values: Record<string, unknown>): MemoryCategory[] | undefined {
  const raw = values.category as string[] | undefined;
  if (!raw || raw.length === 0) return undefined;
  const out = raw.flatMap((c) => c.split(',')).map((c) => c.trim());
  for (const c of out) {
    if (!(MEMORY_CATEGORIES as readonly string[]).includes(c)) throw new UsageError(`--category must be one of ${MEMORY_CATEGORIES.join(', ')}, got "${c}"`);
  }
  return out as MemoryCategory[];
}

export const memorySearchCommand: Command = {
  name: 'memory search',
  summary: "Find a persona's memories nearest to a text",
  usage: ['  chimera memory search --persona ID [--category C ...] [--k N] "text"', MEMORY_FLAGS_USAGE].join('\n'),
  options: { ...MEMORY_FLAGS, persona: { type: 'string' }, category: { type: 'string', multiple: true }, k: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const persona = personaFlag(values);
    const text = positionals.join(' ').trim();
    if (!text) throw new UsageError('give the text to search for');
    const k = intFlag(values, 'k', 1, 1000) ?? 5;
    const cats = categories(values);
    const ports = await openMemoryPorts(readOnlyConfig(memoryConfig(values, io)), io, Boolean(values.json)); // reads only: nothing written
    try {
      const stored = await ports.memory.model();
      if (stored && stored.model_id !== ports.embedder.model_id) {
        throw new ModelMismatchError(
          `the memories were embedded with ${stored.model_id} (${stored.dimensions} dims) but the embedder is ${ports.embedder.model_id}; ` +
            'search with the same embedder, or re-embed them with "chimera memory reindex"',
          { index_model: stored.model_id, query_model: ports.embedder.model_id },
        );
      }
      const [vector] = await ports.embedder.embed([text]);
      const hits = await ports.memory.search({ vector: vector as Float32Array, k, persona_id: persona, ...(cats ? { categories: cats } : {}) });
      if (values.json) {
        io.stdout.write(JSON.stringify({ persona_id: persona, model_id: ports.embedder.model_id, memory: ports.memory.kind, hits: hits.map((h) => ({ ...h.memory, score: h.score })) }) + '\n');
        return 0;
      }
      if (hits.length === 0) {
        io.stdout.write(`no memories for persona ${persona}${cats ? ` in ${cats.join(', ')}` : ''}\n`);
        return 0;
      }
      const width = Math.max(20, ((io.stdout.columns ?? 100) as number) - 40);
      for (const h of hits) {
        const content = h.memory.content.replace(/\s+/g, ' ');
        io.stdout.write(`${h.score.toFixed(3)}  ${h.memory.category.padEnd(8)}  ${h.memory.id.padEnd(18)}  ${content.length > width ? `${content.slice(0, width - 1)}…` : content}\n`);
      }
      return 0;
    } finally {
      await ports.close();
    }
  },
};
