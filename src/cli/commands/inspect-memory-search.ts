/**
 * `chimera inspect memories --query "plain words" [--k N] [--persona ID] [--category C]`: the k
 * PersonaMemory objects nearest to a text, by cosine distance, read-only like the rest of
 * `chimera inspect`. The Inspector's search (src/app/studio/inspect-memory.ts) in the terminal:
 *
 * - the query is embedded on this machine by the configured embedder (loadConfig's `embedder`
 *   section, CHIMERA_EMBEDDER; hashing by default), built by the composition root as the studio
 *   builds its own (src/config/embedders.ts `createEmbedder`); a transformers model that cannot
 *   load falls back to hashing, said on stderr;
 * - the distances are the readers' (src/ports/readers.ts): 1 − cosine similarity, computed by
 *   the reader over the stored float32 vectors, the same number on every backend; stored vectors
 *   of another model or length are left out and counted, never compared.
 *
 * Kept apart from inspect.ts so that file stays the listing; inspect.ts routes `--query` here.
 */
import { resolve } from 'node:path';
import type { ChimeraConfig } from '../../config/config.ts';
import { createEmbedder } from '../../config/embedders.ts';
import type { InspectSession } from '../../app/inspect-session.ts';
import { MEMORY_CATEGORIES, type MemoryCategory, type PersonaMemory } from '../../domain/schemas.ts';
import { MEMORY_SEARCH_K_MAX, type ReadRow } from '../../ports/readers.ts';
import { SystemClock } from '../../sim/clock.ts';
import { UsageError, intFlag, type CliIo } from '../command.ts';

/** The search's flags (besides --persona, which inspect already takes). */
export const MEMORY_SEARCH_FLAGS = { query: { type: 'string' }, k: { type: 'string' }, category: { type: 'string' } } as const;

/** Usage lines for the search. */
export const MEMORY_SEARCH_USAGE = [
  '  chimera inspect memories --query "plain words" [--k N] [--persona ID] [--category C]',
  `                                             the k (default 10, at most ${MEMORY_SEARCH_K_MAX}) nearest memories by cosine distance,`,
  '                                             the query embedded here by the configured embedder',
];

const DEFAULT_K = 10;
const EXCERPT_CHARS = 100;

/** A search asked for on the command line, checked. */
export interface MemorySearchRequest {
  readonly query: string;
  readonly k: number;
  readonly persona_id?: string;
  readonly categories?: readonly MemoryCategory[];
}

/** `--category C` of `inspect memories`, checked against the domain's categories. */
export function categoryFlag(values: Record<string, unknown>): MemoryCategory | undefined {
  const v = values.category;
  if (v === undefined) return undefined;
  if (!(MEMORY_CATEGORIES as readonly string[]).includes(String(v))) throw new UsageError(`--category must be one of ${MEMORY_CATEGORIES.join(', ')}, got "${String(v)}"`);
  return v as MemoryCategory;
}

/**
 * The search the flags ask for, or null without --query; a UsageError for --k without --query,
 * an empty query, a k out of range, or a flag that makes no sense beside a search.
 */
export function memorySearchRequest(what: string, values: Record<string, unknown>): MemorySearchRequest | null {
  const searching = values.query !== undefined;
  if (!searching) {
    if (values.k !== undefined) throw new UsageError('--k applies to a search: give --query "plain words" with it');
    return null;
  }
  if (what !== 'memories') throw new UsageError('--query applies to inspect memories only');
  const query = String(values.query).trim();
  if (!query) throw new UsageError('--query: the search text is empty');
  for (const f of ['limit', 'cursor'] as const) if (values[f] !== undefined) throw new UsageError(`--${f} does not apply to a search (it answers the k nearest at once: use --k N)`);
  const k = intFlag(values, 'k', 1, MEMORY_SEARCH_K_MAX) ?? DEFAULT_K;
  const category = categoryFlag(values);
  const persona = values.persona === undefined ? undefined : String(values.persona);
  return { query, k, ...(persona !== undefined ? { persona_id: persona } : {}), ...(category ? { categories: [category] } : {}) };
}

/** The config's embedder settings with its folders resolved against the command's working folder. */
function embedderConfig(config: ChimeraConfig, io: CliIo): ChimeraConfig {
  const model_dir = config.embedder.model_dir;
  return { ...config, data_dir: resolve(io.cwd, config.data_dir), embedder: { ...config.embedder, ...(model_dir !== undefined ? { model_dir: resolve(io.cwd, model_dir) } : {}) } };
}

const rowJson = (r: ReadRow<PersonaMemory>): Record<string, unknown> => (r.ok ? { ...r.value } : { ok: false, problem: r.problem, raw: r.raw });

const excerpt = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS - 1)}…` : flat;
};

/** Runs the search on `session` with the configured embedder: lines (nearest first) and the result as JSON. */
export async function searchMemoriesOutput(session: InspectSession, config: ChimeraConfig, req: MemorySearchRequest, io: CliIo): Promise<{ text: string[]; json: Record<string, unknown>; exit: number }> {
  const { embedder, notice } = await createEmbedder(embedderConfig(config, io), { config, clock: new SystemClock() });
  if (notice) io.stderr.write(`note: ${notice}\n`);
  try {
    const r = await session.searchMemories(embedder, req);
    const json = {
      query: req.query,
      k: req.k,
      persona_id: req.persona_id ?? null,
      categories: req.categories ?? null,
      metric: r.metric,
      embedder: r.embedder,
      exact: r.exact,
      items: r.items.map((n) => ({ ...rowJson(n.row), distance: n.distance })),
      left_out: r.left_out,
      left_out_models: [...r.left_out_models],
    };
    const filter = [req.persona_id ? `persona ${req.persona_id}` : '', req.categories ? `category ${req.categories.join(', ')}` : ''].filter(Boolean).join(', ');
    const text = [`PersonaMemory nearest to "${excerpt(req.query)}"${filter ? ` (${filter})` : ''}: ${r.metric}, query embedded here by ${r.embedder.model_id}; ${r.exact ? 'exact' : 'approximate (the index proposed the candidates)'}`];
    for (const n of r.items) {
      const d = n.distance.toFixed(4);
      text.push(n.row.ok ? `  ${d}  ${n.row.value.persona_id}  ${n.row.value.category.padEnd(8)}  ${excerpt(n.row.value.content)}  (${n.row.value.id})` : `! ${d}  ${n.row.problem} · ${JSON.stringify(n.row.raw).slice(0, 160)}`);
    }
    if (!r.items.length) text.push('  (none)');
    if (r.left_out) text.push(`  ${r.left_out} left out: embedded by another model (${r.left_out_models.join(', ')}); search with that embedder, or re-embed them with "chimera memory reindex"`);
    return { text, json, exit: 0 };
  } finally {
    await embedder.close();
  }
}
