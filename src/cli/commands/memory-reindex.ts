/**
 * `chimera memory reindex [--force]`: re-embeds every stored memory with the configured
 * embedder (e.g. after moving from the hashing embedder to MiniLM), with a progress bar. The
 * new set is built in a folder beside the old one and swapped in only when complete, so an
 * interrupted reindex leaves the old memories as they were.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { ChimeraError } from '../../domain/errors.ts';
import type { Embedder } from '../../ports/embedder.ts';
import type { PersonaMemoryStore } from '../../ports/persona-memory.ts';
import { guardPersonaMemory } from '../../ports/guards/guarded-persona-memory.ts';
import { createEmbedder, memoryFolder, memoryRowsPath, openPersonaMemoryAt, openStoredMemoryRows, type StoredMemoryRows } from '../../config/embedders.ts';
import { SystemClock } from '../../sim/clock.ts';
import { ProgressBar } from '../progress.ts';
import { UsageError, type Command } from '../command.ts';
import { MEMORY_FLAGS, memoryFlagsUsage, memoryConfig } from './memory-options.ts';

const BATCH = 64;

/** Embeds every row of `rows` with `embedder` into `target`; returns how many. */
export async function reembed(
  rows: StoredMemoryRows,
  target: PersonaMemoryStore,
  embedder: Embedder,
  onProgress: (done: number, total: number) => void,
): Promise<number> {
  const total = rows.count();
  let done = 0;
  onProgress(0, total);
  for (const batch of rows.scan(BATCH)) {
    const vectors = await embedder.embed(batch.map((r) => r.record.content));
    await target.upsert(batch.map((r, i) => ({ ...r.record, vector: vectors[i] as Float32Array, model_id: embedder.model_id })));
    done += batch.length;
    onProgress(done, total);
  }
  return done;
}

export const memoryReindexCommand: Command = {
  name: 'memory reindex',
  summary: 'Re-embed every stored memory with the configured embedder and rebuild the index',
  get usage() {
    return ['  chimera memory reindex [--force]', '  --force re-embeds even when the memories already use the configured model.', memoryFlagsUsage()].join('\n');
  },
  options: { ...MEMORY_FLAGS, force: { type: 'boolean', default: false } },
  async run({ values }, io) {
    const config = memoryConfig(values, io);
    if (config.memory.adapter === 'memory') throw new UsageError('the in-process persona memory keeps nothing to reindex; use --memory hnsw or exact');
    const folder = memoryFolder(config);
    if (!existsSync(memoryRowsPath(folder))) throw new UsageError(`no persona memory at ${folder} (import some with "chimera memory import" first)`);
    const quiet = Boolean(values.json);
    const { embedder, notice } = await createEmbedder(config, { config, clock: new SystemClock() });
    const tmp = `${folder}.reindex`;
    let rows: StoredMemoryRows | null = null;
    try {
      if (notice) throw new ChimeraError('MODEL_MISSING', `cannot reindex with the configured embedder: ${notice}`);
      rows = openStoredMemoryRows(folder);
      const before = rows.model();
      const count = rows.count();
      if (!values.force && before?.model_id === embedder.model_id && before.dimensions === embedder.dimensions) {
        const msg = `the ${count} memories already use ${embedder.model_id}; nothing to do (--force re-embeds anyway)`;
        io.stdout.write(values.json ? JSON.stringify({ reindexed: 0, model_id: embedder.model_id, skipped: true }) + '\n' : `${msg}\n`);
        return 0;
      }
      rmSync(tmp, { recursive: true, force: true });
      const target = guardPersonaMemory(await openPersonaMemoryAt(config, tmp, {}));
      const bar = new ProgressBar(io.stderr, 're-embedding', !quiet && Boolean(io.stderr.isTTY));
      let n: number;
      try {
        n = await reembed(rows, target, embedder, (d, t) => bar.update(d, t, embedder.model_id, performance.now()));
      } finally {
        bar.done();
        await target.close();
      }
      rows.close();
      rows = null;
      const old = `${folder}.old`;
      rmSync(old, { recursive: true, force: true });
      renameSync(folder, old);
      renameSync(tmp, folder);
      rmSync(old, { recursive: true, force: true });
      const summary = { reindexed: n, from_model_id: before?.model_id ?? null, model_id: embedder.model_id, dimensions: embedder.dimensions, folder };
      io.stdout.write(values.json ? JSON.stringify(summary) + '\n' : `re-embedded ${n} memories: ${summary.from_model_id ?? '(empty)'} → ${embedder.model_id} (${embedder.dimensions} dims) in ${folder}\n`);
      return 0;
    } finally {
      rows?.close();
      rmSync(tmp, { recursive: true, force: true });
      await embedder.close();
    }
  },
};
