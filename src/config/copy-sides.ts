/**
 * The two sides of `chimera copy FROM TO`, opened from what the user names: `memory` (an empty
 * in-memory store of this process: as a source it holds nothing, as a target the copy is made,
 * verified and dropped), `sqlite:PATH` (a SQLite file and the persona-memory rows beside it) or
 * `production` (Postgres and Redis from CHIMERA_POSTGRES_URL, CHIMERA_REDIS_URL,
 * CHIMERA_POSTGRES_SCHEMA, CHIMERA_REDIS_PREFIX, as src/config/backends/production.ts reads them).
 *
 * A source is opened to read only where its backend can be (SQLite: no owner lock, nothing
 * written). A target gets a place for the copy's progress record: a `copy_progress` row in the
 * Postgres schema, a `<file>.copy.json` beside a SQLite file (written whole and renamed into
 * place), the process's memory for `memory`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadConfig, parseConfig, type ChimeraConfig } from './config.ts';
import { backendByKind, readOnlyView, requireAvailableMode } from './backends/index.ts';
import { openRawPorts } from './compose.ts';
import { sqliteMemoryRows, writableMemoryRows, type MemoryRows } from './snapshot-files.ts';
import { openPgCopyProgress, redactPgUrl } from '../adapters/postgres/index.ts';
import { ConfigError, ValidationError } from '../domain/errors.ts';
import type { RawPorts } from './backends/types.ts';
import type { Clock } from '../ports/clock.ts';

/** What a side names. */
export type CopySideSpec = { readonly kind: 'memory' } | { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'production' };

/** One opened side. */
export interface OpenedCopySide {
  readonly label: string;
  readonly ports: Omit<RawPorts, 'memory' | 'embedder'>;
  readonly memories: MemoryRows | null;
  /** The target's progress record (targets only). */
  readonly progress?: { read(): Promise<unknown>; write(record: unknown): Promise<void> };
  close(): Promise<void>;
}

/** Reads `memory`, `sqlite:PATH` (relative to `cwd`) or `production`; a ValidationError names what else was given. */
export function parseCopySide(text: string, cwd: string): CopySideSpec {
  if (text === 'memory') return { kind: 'memory' };
  if (text === 'production') return { kind: 'production' };
  if (text.startsWith('sqlite:')) {
    const p = text.slice('sqlite:'.length);
    if (!p) throw new ValidationError(`"${text}" names no file: give sqlite:PATH`);
    return { kind: 'sqlite', path: isAbsolute(p) ? p : resolve(cwd, p) };
  }
  throw new ValidationError(`"${text}" is not a store: give memory, sqlite:PATH or production`);
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
  const redis = p.redis_url ? (() => {
    try {
      const u = new URL(p.redis_url);
      return `${u.host}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
    } catch {
      return '?';
    }
  })() : null;
  return `production (Postgres ${p.postgres_url ? redactPgUrl(p.postgres_url) : '?'} schema ${p.schema}${p.queues === 'postgres' || !redis ? '' : `; Redis ${redis} prefix "${p.redis_prefix}"`})`;
}

/** Opens one side of a copy; `env` gives the production settings. */
export async function openCopySide(spec: CopySideSpec, role: 'source' | 'target', env: NodeJS.ProcessEnv): Promise<OpenedCopySide> {
  if (spec.kind === 'memory') {
    const config = parseConfig({});
    const { ports, close } = await openRawPorts(config, ZERO);
    let record: unknown = null;
    return {
      label: 'memory',
      ports,
      memories: null,
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
      close,
    };
  }
  if (spec.kind === 'sqlite') {
    const entry = backendByKind('sqlite');
    const base = loadConfig({ env, overrides: { mode: entry.mode } });
    const config = parseConfig((entry.files as NonNullable<typeof entry.files>).withPath(base, spec.path));
    const label = `sqlite:${spec.path}`;
    if (role === 'source') {
      if (!existsSync(spec.path)) throw new ValidationError(`${label}: no database at ${spec.path}`);
      const { ports, close } = await openRawPorts(readOnlyView(config), ZERO);
      return { label, ports, memories: sqliteMemoryRows(config), close };
    }
    mkdirSync(dirname(spec.path), { recursive: true });
    const { ports, close } = await openRawPorts(config, ZERO);
    const memories = writableMemoryRows(config);
    return {
      label,
      ports,
      memories,
      progress: sqliteProgress(spec.path),
      close: async () => {
        memories.close();
        await close();
      },
    };
  }
  const config = loadConfig({ env, overrides: { mode: 'production' } });
  const entry = requireAvailableMode(config);
  const missing = entry.check?.(config, 'environment');
  if (missing) throw new ConfigError(missing);
  const p = config.production;
  const { ports, close } = await openRawPorts(config, ZERO);
  const label = productionLabel(config);
  if (role === 'source') return { label, ports, memories: null, close };
  try {
    const progress = await openPgCopyProgress({ url: p.postgres_url as string, schema: p.schema, statementTimeoutMs: p.statement_timeout_ms, applicationName: 'chimera-copy' });
    return {
      label,
      ports,
      memories: null,
      progress,
      close: async () => {
        await progress.close();
        await close();
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
