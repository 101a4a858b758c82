/**
 * What one backend declares in the registry (index.ts): its names, the config section it reads
 * (a zod schema with defaults), the ports it can serve, its capabilities as data, how to read
 * its driver's errors, and (when it is built) the factory that opens its ports. Everything that
 * lists backends (the config's mode enum, the CLI's --backend choices and help, the app's
 * profiles) is derived from these entries; nothing else names a backend.
 */
import type { z } from 'zod';
import type { ChimeraConfig } from '../config.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Ports } from '../../ports/index.ts';
import type { Readers } from '../../ports/readers.ts';
import type { PersonaMemoryStore } from '../../ports/persona-memory.ts';

export interface BackendContext {
  readonly config: ChimeraConfig;
  readonly clock: Clock;
  /** Reports progress of long start-up work (index rebuilds, migrations). */
  readonly onProgress?: (what: string, done: number, total: number) => void;
}

/** The unguarded ports of one profile; the composition root wraps and completes them. */
export type RawPorts = Omit<Ports, 'embedder' | 'memory'> & Partial<Pick<Ports, 'embedder' | 'memory'>>;

/**
 * The ports a config can take from different backends (`ports.<group>` in the config):
 * `state` is the state store and the run log (the run log checkpoints the state, so they go
 * together), `queues` the task and review queues, `cache` the persona cache. Persona memory and
 * the embedder have their own settings (`memory.adapter`, `embedder.kind`).
 */
export const PORT_GROUPS = ['state', 'queues', 'cache'] as const;
export type PortGroup = (typeof PORT_GROUPS)[number];

/**
 * What a storage error means for the caller: try again (`transient`), re-read and decide again
 * (`conflict`), free space (`disk_full`), fix permissions or credentials (`auth`), or give the
 * store up and reopen it from what it kept (`fatal`).
 */
export const ERROR_CLASSES = ['transient', 'conflict', 'disk_full', 'auth', 'fatal'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export interface BackendCapabilities {
  /** Writes in a unit of work commit together or not at all. */
  readonly transactions: boolean;
  /** What was committed survives the process (and a SIGKILL). */
  readonly durable: boolean;
  /** Several processes may write the same store at once. */
  readonly multiWriter: boolean;
  /** Can be opened for reading only, writing nothing (beside a process that writes). */
  readonly readOnly: boolean;
  /** The store has its own clock (a server's now()), not only the caller's. */
  readonly serverTime: boolean;
  /** Queries return exact answers (no approximate index in between). */
  readonly exactSearch: boolean;
  /** Its state can be read out page by page while it is in use (`chimera export`). */
  readonly streamingExport: boolean;
}

/** A backend that keeps each named profile of the app in a file of its own. */
export interface FileProfiles {
  /** The file a config points at. */
  path(config: ChimeraConfig): string;
  /** The same config pointed at `file`. */
  withPath(config: ChimeraConfig, file: string): ChimeraConfig;
  /** The same config opened for reading only (nothing written, no owner lock). */
  readOnly(config: ChimeraConfig): ChimeraConfig;
  /** The file's name inside an app profile's folder (`<data_dir>/profiles/<name>/<file>`). */
  readonly fileName: string;
}

export interface BackendEntry {
  /** The name users give: `--backend`, the app's backend picker, `ports.<group>` in the config. */
  readonly kind: string;
  /** The DATABASE_MODE (config `mode`) whose profile this backend serves. */
  readonly mode: string;
  /** Its name for people (`SQLite`), in the app. */
  readonly label: string;
  /** One line for help texts. */
  readonly help: string;
  /** The config section it reads (e.g. `sqlite`), validated by `schema`; absent: it has no settings. */
  readonly section?: {
    readonly key: string;
    readonly schema: z.ZodType;
    /** Environment variables that set fields of the section (CHIMERA_POSTGRES_URL → postgres_url). */
    readonly env?: readonly { readonly env: string; readonly field: string; readonly required: boolean }[];
  };
  /** Which port groups it can serve. */
  readonly ports: readonly PortGroup[];
  readonly capabilities: BackendCapabilities;
  /**
   * What a failure of this backend means, or null when `e` is not a storage error at all (a bad
   * request, a bug): the caller then reports it as it is.
   */
  classify(e: unknown): ErrorClass | null;
  /** Short human description of the store a config points at, shown in the app. */
  describe(config: ChimeraConfig): string;
  /** Present when the backend keeps its data in a file (named profiles, --db). */
  readonly files?: FileProfiles;
  /**
   * The same config opened for reading only (writes refused, nothing migrated), for a backend that
   * keeps no file (a file backend's is `files.readOnly`); with `capabilities.readOnly`.
   */
  readOnlyView?(config: ChimeraConfig): ChimeraConfig;
  /** What the config must also say when this is its mode (null: nothing missing); checked on load. */
  check?(config: ChimeraConfig, source: string): string | null;
  /** How often a simulation checkpoints on this backend (default: at the end of every tick). */
  checkpoint?(config: ChimeraConfig): 'tick' | 'step';
  /** Opens every port it serves on one connection. Absent: declared, validated, not built yet. */
  create?(ctx: BackendContext): Promise<RawPorts>;
  /**
   * Readers over the store a config points at, for inspection: they build no engine, take no
   * lock and write nothing. Absent: this backend cannot be inspected in this build.
   */
  readers?(config: ChimeraConfig): Readers | Promise<Readers>;
  /**
   * Readers over ports this process opened, for a backend whose stores live inside the process
   * (no other process can open them): read-only views of the very objects the ports write.
   * Only the ports that are this backend's are read. Absent: inspect through `readers(config)`.
   */
  inProcessReaders?(ports: Omit<RawPorts, 'memory' | 'embedder'>): Readers;
  /**
   * The backend's own persona memory (production: Weaviate when a URL is given, else a local
   * index kept per deployment); absent: `memory.adapter` beside the backend's files. `local`
   * opens the configured local memory in a folder.
   */
  createMemory?(config: ChimeraConfig, ctx: BackendContext, local: (config: ChimeraConfig, dir: string, ctx: BackendContext) => Promise<PersonaMemoryStore>): Promise<PersonaMemoryStore>;
}

/** An entry that is built. */
export type BuiltBackend = BackendEntry & Required<Pick<BackendEntry, 'create'>>;
