/**
 * `chimera memory import --persona ID FILE`: embeds a persona's SOUL.md (the whole text as
 * category SOUL, plus one Semantic memory per voice, style and belief line so each trait can be
 * matched on its own: the same memories the engine seeds) or a JSON-lines file of memories, and
 * stores them in persona memory. Re-importing a SOUL.md replaces that persona's earlier ones.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../../domain/errors.ts';
import { parseSoulMd, personaMemories } from '../../domain/persona.ts';
import { MEMORY_CATEGORIES, PersonaIdSchema, formatIssues, type PersonaMemory } from '../../domain/schemas.ts';
import { ProgressBar } from '../progress.ts';
import { UsageError, personaFlag, type Command } from '../command.ts';
import { MEMORY_FLAGS, memoryFlagsUsage, memoryConfig, openMemoryPorts } from './memory-options.ts';

const BATCH = 64;

const JsonLineSchema = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  persona_id: PersonaIdSchema.optional(),
  content: z.string().min(1, 'content is empty'),
  category: z.enum(MEMORY_CATEGORIES).default('Episodic'),
  timestamp: z.iso.datetime({ offset: false }).optional(),
});

function stableId(persona: string, content: string): string {
  return `mem:${createHash('sha256').update(`${persona}\n${content}`).digest('hex').slice(0, 20)}`;
}

/** The memories of a SOUL.md: the whole text (SOUL), then each voice/style/belief line (Semantic). */
export function soulMemories(text: string, source: string, persona: string, timestamp: string): PersonaMemory[] {
  const p = parseSoulMd(text, source);
  if (p.id !== persona) throw new ValidationError(`${source} declares persona "${p.id}" but --persona is "${persona}"`);
  return personaMemories(p, timestamp);
}

/** The memories of a JSON-lines file; errors name the line. */
export function jsonLineMemories(text: string, source: string, persona: string, timestamp: string): PersonaMemory[] {
  const out: PersonaMemory[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new ValidationError(`${source}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    const r = JsonLineSchema.safeParse(raw);
    if (!r.success) throw new ValidationError(`${source}:${i + 1}: ${formatIssues(r.error)}`);
    const m = r.data;
    if (m.persona_id !== undefined && m.persona_id !== persona) {
      throw new ValidationError(`${source}:${i + 1}: persona_id "${m.persona_id}" is not --persona "${persona}"`);
    }
    out.push({ id: m.id ?? stableId(persona, m.content), persona_id: persona, content: m.content, category: m.category, timestamp: m.timestamp ?? timestamp });
  });
  if (out.length === 0) throw new ValidationError(`${source}: no memories (expected JSON lines like {"content": "...", "category": "Episodic"})`);
  return out;
}

export const memoryImportCommand: Command = {
  name: 'memory import',
  summary: "Embed a persona's SOUL.md or a JSON-lines file of memories into persona memory",
  get usage() {
    return [
      '  chimera memory import --persona ID FILE',
      '  FILE: a SOUL.md (front matter first) or JSON lines {"content", "category"?, "id"?, "timestamp"?}',
      memoryFlagsUsage(),
    ].join('\n');
  },
  options: { ...MEMORY_FLAGS, persona: { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const persona = personaFlag(values);
    if (positionals.length !== 1) throw new UsageError(`give exactly one FILE, got ${positionals.length}`);
    const file = resolve(io.cwd, positionals[0] as string);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    if (!text.trim()) throw new ValidationError(`${file} is empty (expected a SOUL.md or JSON lines of memories)`);
    const now = new Date().toISOString();
    const isSoul = /\.md$/i.test(file) || text.trimStart().startsWith('---');
    const memories = isSoul ? soulMemories(text, file, persona, now) : jsonLineMemories(text, file, persona, now);
    const config = memoryConfig(values, io);
    const quiet = Boolean(values.json);
    const ports = await openMemoryPorts(config, io, quiet);
    try {
      const bar = new ProgressBar(io.stderr, 'embedding', !quiet && Boolean(io.stderr.isTTY));
      for (let i = 0; i < memories.length; i += BATCH) {
        const batch = memories.slice(i, i + BATCH);
        const vectors = await ports.embedder.embed(batch.map((m) => m.content));
        await ports.memory.upsert(batch.map((m, j) => ({ ...m, vector: vectors[j] as Float32Array, model_id: ports.embedder.model_id })));
        bar.update(i + batch.length, memories.length, '', performance.now());
      }
      bar.done();
      let removed = 0;
      if (isSoul) {
        const keep = new Set(memories.map((m) => m.id));
        const old = await ports.memory.list({ persona_id: persona, categories: ['SOUL'] });
        removed = await ports.memory.delete(old.filter((m) => m.id.startsWith(`soul:${persona}`) && !keep.has(m.id)).map((m) => m.id));
      }
      const total = await ports.memory.count({ persona_id: persona });
      const summary = {
        persona_id: persona,
        imported: memories.length,
        removed,
        persona_total: total,
        kind: isSoul ? 'SOUL.md' : 'jsonl',
        memory: ports.memory.kind,
        model_id: ports.embedder.model_id,
        durable: ports.memory.capabilities.durable,
      };
      if (values.json) io.stdout.write(JSON.stringify(summary) + '\n');
      else {
        io.stdout.write(
          `imported ${memories.length} memories (${summary.kind}) for persona ${persona}; ${total} in total · ${ports.memory.kind} · ${ports.embedder.model_id}\n`,
        );
        if (!summary.durable) io.stderr.write('note: this persona memory is not durable; nothing is kept after this command\n');
      }
      return 0;
    } finally {
      await ports.close();
    }
  },
};
