/**
 * The two sides of a copy (`chimera copy FROM TO`, the app's Copy panel), opened from what the
 * user names. This is the one place a side is resolved from its spec:
 * - `memory`: an in-memory store of this process. As a source it is the store the caller holds
 *   (the app's in-memory session) or else an empty one (nothing outlives a process); as a target
 *   the copy is made, verified and dropped (a check of the source). Its persona memories go too.
 * - `sqlite:PATH` and a named profile of the data folder (`<data_dir>/profiles/NAME/`): a SQLite
 *   file and the persona-memory rows beside it.
 * - `production`: Postgres and Redis as configured (CHIMERA_POSTGRES_URL, CHIMERA_REDIS_URL,
 *   CHIMERA_POSTGRES_SCHEMA, CHIMERA_REDIS_PREFIX, as src/config/backends/production.ts reads them),
 *   with the persona memories in Weaviate when CHIMERA_WEAVIATE_URL is set. Without Weaviate its
 *   persona memory lives in each process for its run (ephemeral): the side says so (`memoriesNote`)
 *   and keeps none a copy could read or write.
 *
 * A source is opened to read only where its backend can be (SQLite: no owner lock, nothing
 * written; Weaviate: no class created). A target opened read-only (`read_only` in its section,
 * CHIMERA_READ_ONLY=1) is refused before anything is opened. A target gets a place for the
 * copy's progress record: a `copy_progress` row in the Postgres schema, a `<file>.copy.json`
 * beside a SQLite file (written whole and renamed into place), the process's memory for `memory`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { loadConfig, parseConfig, type ChimeraConfig } from './config.ts';
import { backendByKind, profileConfig, readOnlyView, requireAvailableMode } from './backends/index.ts';
import { openRawPorts } from './compose.ts';
import { createPersonaMemory } from './embedders.ts';
import { sqliteMemoryRows, storeMemoryRows, writableMemoryRows, type MemoryRows } from './snapshot-files.ts';
import { openPgCopyProgress, redactPgUrl } from '../adapters/postgres/index.ts';
import { MemoryPersonaMemory } from '../adapters/memory/memory-persona-memory.ts';
import { ConfigError, ReadOnlyError, ValidationError } from '../domain/errors.ts';
import type { RawPorts } from './backends/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { PersonaMemoryStore } from '../ports/persona-memory.ts';

/** What a side names. */
export type CopySideSpec =
  | { readonly kind: 'memory' }
  | { readonly kind: 'sqlite'; readonly path: string }
  /** A named SQLite profile of the data folder (`<data_dir>/profiles/NAME/`), as the app keeps them. */
  | { readonly kind: 'profile'; readonly name: string }
  | { readonly kind: 'production' }
  /** A connection profile (src/config/connections.ts): a production deployment by name. */
  | { readonly kind: 'connection'; readonly name: string };

/** The ports a side serves (persona memory and the embedder aside). */
export type CopySidePorts = Omit<RawPorts, 'memory' | 'embedder'>;

/** An in-memory store the caller already holds (the app's in-memory session): `memory` as a source reads it. */
export interface HeldMemoryStore {
  /** How messages and the copy record name it. */
  readonly label: string;
  readonly ports: CopySidePorts;
  readonly memory: PersonaMemoryStore;
}

/**
 * Where the sides' settings come from: the environment and the config file as `loadConfig` reads
 * them (the CLI), or a config already loaded (the app), with the in-memory store it holds.
 */
export type CopySettings =
  | { readonly env: NodeJS.ProcessEnv; readonly file?: string }
  | {
      readonly config: ChimeraConfig;
      readonly held?: HeldMemoryStore;
      /** A connection profile's config, its secrets resolved (the app's vault can open sealed ones). */
      readonly connection?: (name: string) => Promise<ChimeraConfig>;
    };

/** One opened side. */
export interface OpenedCopySide {
  readonly label: string;
  readonly ports: CopySidePorts;
  readonly memories: MemoryRows | null;
  /** Why the side keeps no persona memories a copy can read or write (memories null), said in the copy's notes. */
  readonly memoriesNote?: string;
  /** The target's progress record (targets only). */
  readonly progress?: { read(): Promise<unknown>; write(record: unknown): Promise<void> };
  close(): Promise<void>;
}

/** Reads `memory`, `sqlite:PATH` (relative to `cwd`), `production` or `connection:NAME`; a ValidationError names what else was given. */
export function parseCopySide(text: string, cwd: string): CopySideSpec {
  if (text === 'memory') return { kind: 'memory' };
  if (text === 'production') return { kind: 'production' };
  if (text.startsWith('connection:')) {
    const name = text.slice('connection:'.length);
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(name)) throw new ValidationError(`"${text}" names no connection profile: give connection:NAME (letters, digits, _ and -)`);
    return { kind: 'connection', name };
  }
  if (text.startsWith('sqlite:')) {
    const p = text.slice('sqlite:'.length);
    if (!p) throw new ValidationError(`"${text}" names no file: give sqlite:PATH`);
    return { kind: 'sqlite', path: isAbsolute(p) ? p : resolve(cwd, p) };
  }
  throw new ValidationError(`"${text}" is not a store: give memory, sqlite:PATH, production or connection:NAME`);
}

/** The settings switched to `mode` (the environment's, or the loaded config's). */
function configFor(settings: CopySettings, mode: string): ChimeraConfig {
  if ('env' in settings) return loadConfig({ env: settings.env, ...(settings.file ? { file: settings.file } : {}), overrides: { mode } });
  return parseConfig({ ...settings.config, mode });
}

/** The file of a named profile in the data folder (as the app's Backend view makes them). */
export function profileFile(config: ChimeraConfig, name: string): string {
  return profileConfig(config, 'sqlite', join(resolve(config.data_dir), 'profiles', name)).file as string;
}

/** The SQLite file a spec names, or null for a side that is no SQLite file. */
export function copySideFile(spec: CopySideSpec, settings: CopySettings): string | null {
  if (spec.kind === 'sqlite') return spec.path;
  if (spec.kind === 'profile') return profileFile(configFor(settings, backendByKind('sqlite').mode), spec.name);
  return null;
}

/** A clock at 0: a copy reads and restores queue items as they are, it does not run them. */
const ZERO: Clock = { now_ms: () => 0, iso: () => new Date(0).toISOString() };

function sqliteProgress(file: string) {
  const path = `${file}.copy.json`;
  return {
    async read(): Promise<unknown> {
      if (!existsSync(path)) return null;
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as unknown;
      } catch (e) {
        throw new ValidationError(`${path} (the copy record beside ${file}) is not JSON: ${(e as Error).message}`);
      }
    },
    async write(record: unknown): Promise<void> {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, JSON.stringify(record));
      const fd = openSync(tmp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    },
  };
}

/** The label of a production profile: its endpoints without secrets. */
function productionLabel(config: ChimeraConfig): string {
  const p = config.production;
  const hostOf = (url: string) => {
    try {
      const u = new URL(url);
      return `${u.host}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
    } catch {
      return '?';
    }
  };
  const redis = p.redis_url ? hostOf(p.redis_url) : null;
  const weaviate = p.weaviate_url ? `; Weaviate ${hostOf(p.weaviate_url)}` : '';
  return `production (Postgres ${p.postgres_url ? redactPgUrl(p.postgres_url) : '?'} schema ${p.schema}${p.queues === 'postgres' || !redis ? '' : `; Redis ${redis} prefix "${p.redis_prefix}"`}${weaviate})`;
}

/** Refuses a target its settings open read-only, before anything is opened or written. */
function refuseReadOnly(label: string, readOnly: boolean, where: string): void {
  if (readOnly) throw new ReadOnlyError(`${label} is open read-only (${where}): a copy cannot write into it; nothing was written`, { endpoint: label, refused: 'copy' });
}

/** An in-memory side: the held store as a source, else an empty store of this process. */
async function openMemorySide(role: 'source' | 'target', settings: CopySettings): Promise<OpenedCopySide> {
  const held = 'config' in settings ? settings.held : undefined;
  if (role === 'source' && held) {
    const memories = storeMemoryRows(held.memory);
    return { label: held.label, ports: held.ports, memories, ...(memories ? {} : { memoriesNote: `${held.label} cannot hand its persona memories back with their vectors` }), close: async () => {} };
  }
  const { ports, close } = await openRawPorts(parseConfig({}), ZERO);
  const memory = new MemoryPersonaMemory();
  let record: unknown = null;
  return {
    label: 'memory',
    ports,
    memories: storeMemoryRows(memory),
    ...(role === 'target'
      ? {
          progress: {
            read: async () => record,
            write: async (r: unknown) => {
              record = JSON.parse(JSON.stringify(r)) as unknown;
            },
          },
        }
      : {}),
    close: async () => {
      await memory.close();
      await close();
    },
  };
}

async function openSqliteSide(path: string, role: 'source' | 'target', settings: CopySettings): Promise<OpenedCopySide> {
  const entry = backendByKind('sqlite');
  const config = parseConfig((entry.files as NonNullable<typeof entry.files>).withPath(configFor(settings, entry.mode), path));
  const label = `sqlite:${path}`;
  if (role === 'source') {
    if (!existsSync(path)) throw new ValidationError(`${label}: no database at ${path}`);
    const { ports, close } = await openRawPorts(readOnlyView(config), ZERO);
    return { label, ports, memories: sqliteMemoryRows(config), close };
  }
  refuseReadOnly(label, config.sqlite.read_only, 'sqlite.read_only in the config');
  mkdirSync(dirname(path), { recursive: true });
  const { ports, close } = await openRawPorts(config, ZERO);
  const memories = writableMemoryRows(config);
  return {
    label,
    ports,
    memories,
    progress: sqliteProgress(path),
    close: async () => {
      memories.close();
      await close();
    },
  };
}

/** A connection profile's config: from the environment and files (the CLI), or the app's resolver (its vault too). */
async function connectionConfig(name: string, settings: CopySettings): Promise<ChimeraConfig> {
  if ('env' in settings) return loadConfig({ env: settings.env, ...(settings.file ? { file: settings.file } : {}), connection: name });
  if (!settings.connection) throw new ConfigError(`connection "${name}": this copy cannot open connection profiles`);
  return settings.connection(name);
}

async function openProductionSide(role: 'source' | 'target', settings: CopySettings, connection?: string): Promise<OpenedCopySide> {
  const config = connection === undefined ? configFor(settings, 'production') : await connectionConfig(connection, settings);
  const entry = requireAvailableMode(config);
  const missing = entry.check?.(config, 'environment');
  if (missing) throw new ConfigError(missing);
  const p = config.production;
  const label = connection === undefined ? productionLabel(config) : `connection "${connection}" (${productionLabel(config)})`;
  if (role === 'target') {
    refuseReadOnly(label, p.read_only, connection === undefined ? 'CHIMERA_READ_ONLY or production.read_only in the config' : 'the profile says read_only: make it read-write first (the app asks to confirm)');
  }
  const opened: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const o of opened.reverse()) await o.close();
  };
  try {
    const raw = await openRawPorts(config, ZERO);
    opened.push(raw);
    let memories: MemoryRows | null = null;
    let memoriesNote: string | undefined;
    if (p.weaviate_url) {
      // a source's class is read only: nothing created, nothing written
      const store = await createPersonaMemory(role === 'source' ? readOnlyView(config) : config, { config, clock: ZERO });
      opened.push(store);
      memories = storeMemoryRows(store);
    } else {
      memoriesNote = `${label} has no Weaviate (CHIMERA_WEAVIATE_URL is not set): its persona memory lives in each process for its run only (ephemeral), so there are no persona memories to copy ${role === 'source' ? 'from' : 'into'} it; they are left out of the comparison`;
    }
    if (role === 'source') return { label, ports: raw.ports, memories, ...(memoriesNote ? { memoriesNote } : {}), close: closeAll };
    const progress = await openPgCopyProgress({ url: p.postgres_url as string, schema: p.schema, statementTimeoutMs: p.statement_timeout_ms, applicationName: 'chimera-copy' });
    opened.push(progress);
    return { label, ports: raw.ports, memories, ...(memoriesNote ? { memoriesNote } : {}), progress, close: closeAll };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/**
 * Opens one side of a copy from its spec: the one function that resolves a side (a new kind of
 * side is a case here). `settings` gives the backends' settings (the environment, or the app's
 * config and the in-memory store it holds).
 */
export async function openCopySide(spec: CopySideSpec, role: 'source' | 'target', settings: CopySettings): Promise<OpenedCopySide> {
  switch (spec.kind) {
    case 'memory':
      return openMemorySide(role, settings);
    case 'sqlite':
      return openSqliteSide(spec.path, role, settings);
    case 'profile':
      return openSqliteSide(copySideFile(spec, settings) as string, role, settings);
    case 'production':
      return openProductionSide(role, settings);
    case 'connection':
      return openProductionSide(role, settings, spec.name);
  }
}
