/**
 * The CLI's first line of defence: before a command does any work, every file it names is
 * checked for what the command will do with it, and nothing is created or changed here.
 *
 * - an input file (run file, snapshot, scenario, config, SOUL.md) must exist and be a
 *   readable file, not a folder;
 * - an output file (--out) must not be a folder, its folder must exist, and it must not be
 *   one of the command's own input files;
 * - a database a command only reads (export, memory search, memory reindex) must exist and
 *   be non-empty: opening a missing or empty file would turn it into a new database;
 * - a database a command writes must not be a folder, and its folder must exist when the
 *   path is given explicitly (--db).
 *
 * The table at the end says which checks each command gets.
 */
import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError, personaFlag, type CliIo } from './command.ts';
import { backendTarget } from './commands/export.ts';
import { memoryConfig } from './commands/memory-options.ts';
import { requireAvailableMode } from '../config/backends/index.ts';
import { memoryFolder } from '../config/embedders.ts';

type Args = { readonly values: Record<string, unknown>; readonly positionals: readonly string[] };

function stat(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') throw new UsageError(`${path}: a folder on this path is a file`);
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

function readable(path: string, what: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new UsageError(`cannot read ${what} ${path}: permission denied`);
  }
}

/** An input file: exists, is a file, can be read. */
export function checkInputFile(path: string, what: string): void {
  const s = stat(path);
  if (!s) throw new UsageError(`cannot read ${what} ${path}: there is no such file`);
  if (s.isDirectory()) throw new UsageError(`cannot read ${what} ${path}: it is a folder, not a file`);
  if (!s.isFile()) throw new UsageError(`cannot read ${what} ${path}: it is not a regular file`);
  readable(path, what);
}

/** The folder an output goes into: exists, is a folder, can be written. */
function checkParent(path: string, what: string): void {
  const dir = dirname(path);
  const d = stat(dir);
  if (!d) throw new UsageError(`${what} ${path}: folder ${dir} does not exist`);
  if (!d.isDirectory()) throw new UsageError(`${what} ${path}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${what} ${path}: folder ${dir} is not writable`);
  }
}

const same = (a: string, b: string): boolean => {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
};

/** An output file: not a folder, in an existing writable folder, writable if it exists, and none of `inputs`. */
export function checkOutputFile(path: string, what: string, inputs: readonly string[] = []): void {
  const s = stat(path);
  if (s?.isDirectory()) throw new UsageError(`${what} ${path} is a folder; give a file name`);
  if (s && !s.isFile()) throw new UsageError(`${what} ${path} is not a regular file`);
  checkParent(path, what);
  if (s) {
    try {
      accessSync(path, constants.W_OK);
    } catch {
      throw new UsageError(`${what} ${path} is not writable`);
    }
    for (const i of inputs) if (same(path, i)) throw new UsageError(`${what} ${path} is also an input of this command; write to another file`);
  }
}

/** A database a command only reads: an existing, non-empty, readable file. */
export function checkExistingDatabase(path: string, what = '--db'): void {
  const s = stat(path);
  if (!s) throw new UsageError(`no database at ${path} (${what} must name an existing database; nothing was created)`);
  if (s.isDirectory()) throw new UsageError(`${what} ${path} is a folder, not a database file`);
  if (!s.isFile()) throw new UsageError(`${what} ${path} is not a regular file`);
  if (s.size === 0) throw new UsageError(`${what} ${path} is an empty file, not a database (it was left as it is)`);
  readable(path, what);
}

/**
 * A database a command writes: not a folder; the folder of a path given with --db must exist
 * (the default one, <data_dir>/chimera.db, is made when missing, as the SQLite profile does).
 */
export function checkWritableDatabase(path: string, what = '--db', explicit = true): void {
  const s = stat(path);
  if (s?.isDirectory()) throw new UsageError(`${what} ${path} is a folder, not a database file`);
  if (s && !s.isFile()) throw new UsageError(`${what} ${path} is not a regular file`);
  if (explicit) checkParent(path, what);
}

/** A folder the command reads from. */
export function checkInputFolder(path: string, what: string): void {
  const s = stat(path);
  if (!s) throw new UsageError(`${what} ${path} does not exist`);
  if (!s.isDirectory()) throw new UsageError(`${what} ${path} is not a folder`);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const at = (io: CliIo, p: string): string => resolve(io.cwd, p);

/** --config FILE, when given. */
function configFile(values: Record<string, unknown>, io: CliIo): string | undefined {
  const c = str(values.config);
  if (c === undefined) return undefined;
  checkInputFile(at(io, c), '--config');
  return at(io, c);
}

/** The memory commands that only read the kept memories: the database and its persona-memory folder must exist. */
function memoryRead({ values }: Args, io: CliIo): void {
  if (values.persona !== undefined) personaFlag(values);
  configFile(values, io);
  const db = str(values.db);
  if (db !== undefined) checkExistingDatabase(at(io, db));
  const config = memoryConfig(values, io);
  const files = requireAvailableMode(config).files;
  // only a backend that keeps a file keeps memories beside it
  if (!files) return;
  checkExistingDatabase(files.path(config), db === undefined ? 'the database' : '--db');
  if (config.memory.adapter !== 'memory') {
    const folder = memoryFolder(config);
    if (!stat(folder)?.isDirectory()) throw new UsageError(`no persona memory at ${folder} (import some with "chimera memory import" first)`);
  }
}

/** Each command's checks, run after its arguments parse and before it does anything. */
const CHECKS: Record<string, (args: Args, io: CliIo) => void> = {
  simulate: ({ values }, io) => {
    const inputs: string[] = [];
    const config = configFile(values, io);
    if (config) inputs.push(config);
    const scenario = str(values.scenario);
    // the scenario loader says what is wrong with a scenario file; here it is only an input --out must not overwrite
    if (scenario !== undefined && (scenario.endsWith('.json') || scenario.includes('/'))) inputs.push(at(io, scenario));
    const db = str(values.db);
    if (db !== undefined) {
      checkWritableDatabase(at(io, db));
      inputs.push(at(io, db));
    }
    const out = str(values.out);
    if (out !== undefined) checkOutputFile(at(io, out), '--out', inputs);
  },
  replay: ({ positionals }, io) => {
    if (positionals.length === 1) checkInputFile(at(io, positionals[0] as string), 'run file');
  },
  export: ({ values }, io) => {
    const target = backendTarget(values, io);
    if (target.file) checkExistingDatabase(target.file);
    const out = str(values.out);
    if (out !== undefined) checkOutputFile(at(io, out), '--out', target.file ? [target.file] : []);
  },
  import: ({ values, positionals }, io) => {
    if (positionals.length === 1) checkInputFile(at(io, positionals[0] as string), 'snapshot file');
    const target = backendTarget(values, io);
    if (target.file) checkWritableDatabase(target.file, values.db === undefined ? 'the database' : '--db', values.db !== undefined);
  },
  'memory import': ({ values, positionals }, io) => {
    personaFlag(values);
    configFile(values, io);
    if (positionals.length === 1) checkInputFile(at(io, positionals[0] as string), 'memory file');
    const db = str(values.db);
    if (db !== undefined) checkWritableDatabase(at(io, db));
    const modelDir = str(values['model-dir']);
    if (modelDir !== undefined) checkInputFolder(at(io, modelDir), '--model-dir');
    requireAvailableMode(memoryConfig(values, io));
  },
  'memory search': memoryRead,
  'memory reindex': memoryRead,
  'connections list': ({ values }, io) => void configFile(values, io),
  'connections test': ({ values }, io) => void configFile(values, io),
};

/** Runs the checks of command `name` (none for a command not in the table). */
export function preflight(name: string, args: Args, io: CliIo): void {
  CHECKS[name]?.(args, io);
}
