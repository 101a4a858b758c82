/**
 * The registry of backends: one entry per technology (its names, config section, ports,
 * capabilities, error classifier and factory; types.ts says what each declares). A new backend
 * (postgres, redis, weaviate, …) is one more entry in BUILT_IN; every list of backends in the
 * config, the CLI and the app is derived from here.
 *
 * `registerBackend` adds an entry in this process (an extension, or a test that checks the
 * derivations); it returns the function that takes it away again. The registry holds factories,
 * never "the current backend": which one a run uses is always its config's.
 */
import { join } from 'node:path';
import type { ChimeraConfig } from '../config.ts';
import { ConfigError, ValidationError } from '../../domain/errors.ts';
import { memoryBackend } from './memory.ts';
import { sqliteBackend } from './sqlite.ts';
import { productionBackend } from './production.ts';
import type { BackendEntry, BuiltBackend, PortGroup } from './types.ts';

const BUILT_IN: readonly BackendEntry[] = [memoryBackend, sqliteBackend, productionBackend];

const entries: BackendEntry[] = [...BUILT_IN];
let version = 0;

/** The DATABASE_MODE of a config that names none: everything in this process, nothing kept. */
export const DEFAULT_MODE = 'in-memory';

/** The backend of DEFAULT_MODE (what a replay, a scrub and the app's fallback run on). */
export const defaultBackend = (): BuiltBackend => requireAvailableMode({ mode: DEFAULT_MODE } as ChimeraConfig);

/** Every backend, built or not, in registration order. */
export function backends(): readonly BackendEntry[] {
  return entries;
}

/** Bumped on every change (derived schemas are cached per version). */
export function registryVersion(): number {
  return version;
}

/** Adds a backend in this process; returns its remover. Names must be new. */
export function registerBackend(entry: BackendEntry): () => void {
  for (const e of entries) {
    if (e.kind === entry.kind || e.mode === entry.mode) throw new ConfigError(`backend "${entry.kind}" (mode ${entry.mode}) is already registered`);
    if (entry.section && e.section?.key === entry.section.key) throw new ConfigError(`backend "${entry.kind}": config section "${entry.section.key}" belongs to "${e.kind}"`);
  }
  entries.push(entry);
  version += 1;
  return () => {
    const i = entries.indexOf(entry);
    if (i >= 0) {
      entries.splice(i, 1);
      version += 1;
    }
  };
}

export const isBuilt = (e: BackendEntry): e is BuiltBackend => typeof e.create === 'function';

/** Every DATABASE_MODE the config accepts. */
export const databaseModes = (): string[] => entries.map((e) => e.mode);

/** The `--backend` names; `built` leaves out what this build cannot open (commands that open a store at once). */
export const backendKinds = (opts: { built?: boolean } = {}): string[] => entries.filter((e) => !opts.built || isBuilt(e)).map((e) => e.kind);

/** The `--backend` choices as help text: `memory|sqlite|production`. */
export const backendChoicesText = (opts: { built?: boolean } = {}): string => backendKinds(opts).join('|');

/** One help line per backend: `    sqlite      one SQLite file …`. */
export function backendHelpLines(opts: { built?: boolean; indent?: string } = {}): string[] {
  const list = entries.filter((e) => !opts.built || isBuilt(e));
  const width = Math.max(...list.map((e) => e.kind.length)) + 2;
  return list.map((e) => `${opts.indent ?? '    '}${e.kind.padEnd(width)}${e.help}`);
}

/** The backends that keep their data in a file (the ones --db applies to). */
export const fileBackends = (): BackendEntry[] => entries.filter((e) => e.files);

/** The entry of a DATABASE_MODE; every mode the config accepts has one. */
export function backendForMode(mode: string): BackendEntry {
  const e = entries.find((b) => b.mode === mode);
  if (!e) throw new ConfigError(`DATABASE_MODE "${mode}" is not a backend of this build (one of ${databaseModes().join(', ')})`);
  return e;
}

/** The entry a user names (`--backend`, the app's picker, `ports.<group>`), or a ValidationError listing the names. */
export function backendByKind(kind: string, what = 'backend'): BackendEntry {
  const e = entries.find((b) => b.kind === kind);
  if (!e) throw new ValidationError(`${what} must be one of ${backendKinds().join(', ')}, got "${kind}"`);
  return e;
}

/**
 * The built entry for the config's profile, or a ConfigError saying that profile is not in this
 * build (the production profile is configured and validated, but not built yet). Callers check
 * this before any work, so a run never starts on a profile it cannot finish on.
 */
export function requireAvailableMode(config: ChimeraConfig): BuiltBackend {
  const entry = backendForMode(config.mode);
  if (!isBuilt(entry)) {
    throw new ConfigError(
      `the ${config.mode} profile is not available in this build yet (available: ${entries.filter(isBuilt).map((b) => b.mode).join(', ')})`,
    );
  }
  return entry;
}

/** The backend serving one port group: `ports.<group>` in the config, else the profile's own. */
export function backendForPorts(config: ChimeraConfig, group: PortGroup): BackendEntry {
  const kind = (config.ports as Partial<Record<PortGroup, string>>)[group];
  return kind === undefined ? backendForMode(config.mode) : backendByKind(kind, `ports.${group}`);
}

/**
 * `base` switched to the backend a user named, pointed at `file` for a file backend
 * (`--backend sqlite --db FILE`). A file backend without a file is an error naming the flag.
 */
export function configForBackend(base: ChimeraConfig, kind: string, file?: string): ChimeraConfig {
  const entry = backendByKind(kind, '--backend');
  const config = { ...base, mode: entry.mode };
  if (!entry.files) return config;
  if (!file) throw new ValidationError(`--backend ${kind} needs --db FILE`);
  return entry.files.withPath(config, file);
}

/** The backend's read-only view of a config (its own, else its files'), or undefined when it has none. */
function viewOf(entry: BackendEntry): ((config: ChimeraConfig) => ChimeraConfig) | undefined {
  if (!entry.capabilities.readOnly) return undefined;
  return entry.readOnlyView ?? entry.files?.readOnly;
}

/**
 * The same config opened for reading only where its backend can be (nothing written, no owner
 * lock: for commands that only read, beside a process that writes); else the config as it is.
 */
export function readOnlyView(config: ChimeraConfig): ChimeraConfig {
  const view = viewOf(backendForMode(config.mode));
  return view ? view(config) : config;
}

/**
 * `--read-only`: the config opened for reading only, every write refused with a ReadOnlyError; a
 * ConfigError when its backend cannot be opened so (everything in this process: nothing to protect).
 */
export function requireReadOnly(config: ChimeraConfig): ChimeraConfig {
  const entry = backendForMode(config.mode);
  const view = viewOf(entry);
  if (!view) {
    const can = entries.filter((e) => viewOf(e)).map((e) => e.kind);
    throw new ConfigError(`--read-only: the ${entry.kind} backend cannot be opened read-only (${can.length ? `only ${can.join(', ')} can` : 'no backend of this build can'})`);
  }
  return view(config);
}

/** The profile a durable store keeps in a folder of the app's (`<data_dir>/profiles/<name>`): its config and file. */
export function profileConfig(base: ChimeraConfig, kind: string, folder: string): { config: ChimeraConfig; file: string | null } {
  const entry = backendByKind(kind);
  const config = { ...base, mode: entry.mode };
  if (!entry.files) return { config, file: null };
  const file = join(folder, entry.files.fileName);
  return { config: entry.files.withPath(config, file), file };
}

export type { BackendEntry, BuiltBackend, BackendCapabilities, ErrorClass, PortGroup } from './types.ts';
