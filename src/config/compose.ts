/**
 * The composition root: the one place that picks adapters from config. It wraps every
 * adapter in the cross-cutting guards (validation, status machines, model checks), so the
 * engine gets the same behaviour whatever serves the ports. The engine never imports this.
 */
import { parseConfig, type ChimeraConfig } from './config.ts';
import type { Clock } from '../ports/clock.ts';
import type { Ports } from '../ports/index.ts';
import type { Readers } from '../ports/readers.ts';
import type { Embedder } from '../ports/embedder.ts';
import { ConfigError } from '../domain/errors.ts';
import { guardStateStore } from '../ports/guards/guarded-state-store.ts';
import { guardPersonaMemory } from '../ports/guards/guarded-persona-memory.ts';
import { backendForMode, backendForPorts, backendKinds, isBuilt, requireAvailableMode } from './backends/index.ts';
import { createEmbedder, createPersonaMemory } from './embedders.ts';
import { PORT_GROUPS, type BackendCapabilities, type BackendContext, type BackendEntry, type BuiltBackend, type ErrorClass, type PortGroup, type RawPorts } from './backends/types.ts';

/** What the composed ports can do, from the registry entries that serve them. */
export interface ComposedBackend {
  /** The profile's backend (its DATABASE_MODE's entry). */
  readonly kind: string;
  /** The backend of each port group (the profile's own unless `ports.<group>` says otherwise). */
  readonly ports: Readonly<Record<PortGroup, string>>;
  /** Each capability holds only if every backend in use has it. */
  readonly capabilities: BackendCapabilities;
  /** What a failure means: the first of the backends in use that recognises it (null: not a storage error). */
  classify(e: unknown): ErrorClass | null;
}

export interface ComposedPorts extends Ports {
  /** What the user should know about this profile (fallbacks taken, approximations). */
  readonly notices: readonly string[];
  readonly description: string;
  readonly backend: ComposedBackend;
  /**
   * Present when the profile's backend keeps its stores in this process (in-memory): readers
   * over these very ports (read-only views; src/ports/readers.ts) and the clock their times are
   * on. Elsewhere the store is inspected with `composeReaders`, like any other process would.
   */
  readonly inspect?: () => { readonly readers: Readers; now_ms(): number };
  /** Closes every port, once. */
  close(): Promise<void>;
}

/** The ports an entry opened that serve a group (the run log goes with the state: it checkpoints it). */
function portsOf(raw: RawPorts, group: PortGroup): { close(): Promise<void> }[] {
  if (group === 'state') return [raw.state, raw.runLog];
  if (group === 'queues') return [raw.taskQueue, raw.reviewQueue];
  return [raw.personaCache];
}

/**
 * Opens the backends the config names, once each: the profile's own for every port group
 * unless `ports.<group>` picks another, so state, queues and cache may come from different
 * backends. Ports a backend opened but no group takes from it are closed again at once.
 */
async function openGroups(config: ChimeraConfig, ctx: BackendContext): Promise<{ raw: Omit<RawPorts, 'memory' | 'embedder'>; entries: Record<PortGroup, BuiltBackend>; opened: RawPorts[] }> {
  requireAvailableMode(config);
  const entries = {} as Record<PortGroup, BuiltBackend>;
  for (const g of PORT_GROUPS) {
    const e = backendForPorts(config, g);
    if (!e.ports.includes(g)) throw new ConfigError(`ports.${g}: backend "${e.kind}" does not serve ${g} (it serves ${e.ports.join(', ')})`);
    if (!isBuilt(e)) throw new ConfigError(`ports.${g}: backend "${e.kind}" is not available in this build yet (available: ${backendKinds({ built: true }).join(', ')})`);
    entries[g] = e;
  }
  const byKind = new Map<string, RawPorts>();
  const opened: RawPorts[] = [];
  try {
    for (const g of PORT_GROUPS) {
      const e = entries[g];
      if (!byKind.has(e.kind)) {
        const raw = await e.create(ctx);
        byKind.set(e.kind, raw);
        opened.push(raw);
      }
    }
  } catch (err) {
    for (const raw of opened) for (const g of PORT_GROUPS) for (const p of portsOf(raw, g)) await p.close().catch(() => undefined);
    throw err;
  }
  const from = (g: PortGroup) => byKind.get(entries[g].kind) as RawPorts;
  // close what no group takes from a backend (its connection stays open for the ports in use)
  for (const [kind, raw] of byKind) {
    for (const g of PORT_GROUPS) if (entries[g].kind !== kind) for (const p of portsOf(raw, g)) await p.close();
  }
  const raw = {
    state: from('state').state,
    runLog: from('state').runLog,
    taskQueue: from('queues').taskQueue,
    reviewQueue: from('queues').reviewQueue,
    personaCache: from('cache').personaCache,
  };
  return { raw, entries, opened };
}

function composedBackend(config: ChimeraConfig, entries: Record<PortGroup, BackendEntry>): ComposedBackend {
  const used = [...new Set(Object.values(entries))];
  const capabilities = Object.fromEntries(
    (Object.keys(used[0]?.capabilities ?? {}) as (keyof BackendCapabilities)[]).map((k) => [k, used.every((e) => e.capabilities[k])]),
  ) as unknown as BackendCapabilities;
  return {
    kind: backendForMode(config.mode).kind,
    ports: Object.fromEntries(PORT_GROUPS.map((g) => [g, entries[g].kind])) as Record<PortGroup, string>,
    capabilities: Object.freeze(capabilities),
    classify: (e) => {
      for (const entry of used) {
        const c = entry.classify(e);
        if (c !== null) return c;
      }
      return null;
    },
  };
}

export async function composePorts(
  config: ChimeraConfig,
  clock: Clock,
  onProgress?: BackendContext['onProgress'],
): Promise<ComposedPorts> {
  const ctx: BackendContext = onProgress ? { config, clock, onProgress } : { config, clock };
  const { raw, entries } = await openGroups(config, ctx);
  const notices: string[] = [];
  let embedder: Embedder | undefined;
  let memory: ReturnType<typeof guardPersonaMemory> | undefined;
  try {
    const e = await createEmbedder(config, ctx);
    embedder = e.embedder;
    if (e.notice) notices.push(e.notice);
    memory = guardPersonaMemory(await createPersonaMemory(config, ctx));
  } catch (err) {
    for (const p of [raw.state, raw.taskQueue, raw.reviewQueue, raw.personaCache, raw.runLog, embedder]) await p?.close().catch(() => undefined);
    throw err;
  }
  const main = backendForMode(config.mode);
  const inProcess = main.inProcessReaders?.bind(main);
  const others = PORT_GROUPS.filter((g) => entries[g] !== main).map((g) => `${g} on ${entries[g].describe(config)}`);
  let closed = false;
  const ports: ComposedPorts = {
    ...guardedPorts(raw, memory, embedder),
    notices,
    description: others.length ? `${main.describe(config)}; ${others.join('; ')}` : main.describe(config),
    backend: composedBackend(config, entries),
    ...(inProcess ? { inspect: () => ({ readers: inProcess(raw), now_ms: () => clock.now_ms() }) } : {}),
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
 * The raw (unguarded) ports of the backends a config names, without persona memory and the
 * embedder: what `chimera export` and `import` read and write.
 */
export async function openRawPorts(config: ChimeraConfig, clock: Clock): Promise<{ ports: Omit<RawPorts, 'memory' | 'embedder'>; close: () => Promise<void> }> {
  const { raw } = await openGroups(config, { config, clock });
  let closed = false;
  return {
    ports: raw,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const p of [raw.state, raw.taskQueue, raw.reviewQueue, raw.personaCache, raw.runLog]) await p.close();
    },
  };
}

/**
 * Fresh in-memory ports on `clock` that share `embedder` (closing them leaves it open): what a
 * stored run is re-executed on to resume it exactly (src/engine/recovery.ts).
 */
export async function composeScratchPorts(clock: Clock, embedder: Embedder): Promise<Ports & { close(): Promise<void> }> {
  // the default config: the in-memory profile, every port in this process
  const config = parseConfig({});
  const raw = await requireAvailableMode(config).create({ config, clock });
  const memory = guardPersonaMemory(await createPersonaMemory(config, { config, clock }));
  return {
    ...guardedPorts(raw, memory, embedder),
    async close() {
      for (const p of [raw.state, raw.taskQueue, raw.reviewQueue, raw.personaCache, raw.runLog, memory]) await p.close();
    },
  };
}

/**
 * Readers over the store `config` points at, for inspection (src/app/inspect-session.ts): no
 * engine, no lock, nothing written. A backend that cannot be inspected in this build is a
 * ConfigError naming it.
 */
export async function composeReaders(config: ChimeraConfig): Promise<Readers> {
  const backend = backendForMode(config.mode);
  if (!backend?.readers) throw new ConfigError(`the ${config.mode} profile cannot be inspected in this build`);
  return await backend.readers(config);
}

/** The ports of a profile as the engine gets them: the state store behind its guard (persona memory comes guarded). */
function guardedPorts(raw: RawPorts, memory: Ports['memory'], embedder: Ports['embedder']): Ports {
  return {
    state: guardStateStore(raw.state),
    taskQueue: raw.taskQueue,
    reviewQueue: raw.reviewQueue,
    personaCache: raw.personaCache,
    runLog: raw.runLog,
    memory,
    embedder,
  };
}
