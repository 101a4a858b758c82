/**
 * The composition root: the one place that picks adapters from config. It wraps every
 * adapter in the cross-cutting guards (validation, status machines, model checks), so the
 * engine gets the same behaviour whatever serves the ports. The engine never imports this.
 */
import { parseConfig, type ChimeraConfig } from './config.ts';
import type { Clock } from '../ports/clock.ts';
import type { Ports } from '../ports/index.ts';
import type { Embedder } from '../ports/embedder.ts';
import { ConfigError } from '../domain/errors.ts';
import { guardStateStore } from '../ports/guards/guarded-state-store.ts';
import { guardPersonaMemory } from '../ports/guards/guarded-persona-memory.ts';
import { BACKENDS } from './backends/index.ts';
import { createEmbedder, createPersonaMemory } from './embedders.ts';
import type { BackendContext } from './backends/types.ts';

export interface ComposedPorts extends Ports {
  /** What the user should know about this profile (fallbacks taken, approximations). */
  readonly notices: readonly string[];
  readonly description: string;
  /** Closes every port, once. */
  close(): Promise<void>;
}

export async function composePorts(
  config: ChimeraConfig,
  clock: Clock,
  onProgress?: BackendContext['onProgress'],
): Promise<ComposedPorts> {
  const backend = BACKENDS.find((b) => b.mode === config.mode);
  if (!backend) {
    throw new ConfigError(
      `DATABASE_MODE "${config.mode}" has no backend in this build (available: ${BACKENDS.map((b) => b.mode).join(', ')})`,
    );
  }
  const ctx: BackendContext = onProgress ? { config, clock, onProgress } : { config, clock };
  const raw = await backend.create(ctx);
  const notices: string[] = [];
  let embedder = raw.embedder;
  if (!embedder) {
    const e = await createEmbedder(config, ctx);
    embedder = e.embedder;
    if (e.notice) notices.push(e.notice);
  }
  const memory = guardPersonaMemory(raw.memory ?? (await createPersonaMemory(config, ctx)));
  let closed = false;
  const ports: ComposedPorts = {
    state: guardStateStore(raw.state),
    taskQueue: raw.taskQueue,
    reviewQueue: raw.reviewQueue,
    personaCache: raw.personaCache,
    runLog: raw.runLog,
    memory,
    embedder,
    notices,
    description: backend.describe(config),
    async close() {
      if (closed) return;
      closed = true;
      for (const p of [raw.state, raw.taskQueue, raw.reviewQueue, raw.personaCache, raw.runLog, memory, embedder]) {
        await p?.close();
      }
    },
  };
  return ports;
}

/**
 * Fresh in-memory ports on `clock` that share `embedder` (closing them leaves it open): what a
 * stored run is re-executed on to resume it exactly (src/engine/recovery.ts).
 */
export async function composeScratchPorts(clock: Clock, embedder: Embedder): Promise<Ports & { close(): Promise<void> }> {
  const config = parseConfig({});
  const backend = BACKENDS.find((b) => b.mode === config.mode);
  if (!backend) throw new ConfigError('the in-memory backend is missing from this build');
  const raw = await backend.create({ config, clock });
  const memory = guardPersonaMemory(await createPersonaMemory(config, { config, clock }));
  return {
    state: guardStateStore(raw.state),
    taskQueue: raw.taskQueue,
    reviewQueue: raw.reviewQueue,
    personaCache: raw.personaCache,
    runLog: raw.runLog,
    memory,
    embedder,
    async close() {
      for (const p of [raw.state, raw.taskQueue, raw.reviewQueue, raw.personaCache, raw.runLog, memory]) await p.close();
    },
  };
}
