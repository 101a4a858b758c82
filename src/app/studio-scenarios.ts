/**
 * The scenarios the studio's UI may open (`sim/open`): a shipped scenario by name, or a JSON
 * file inside the data folder. A UI channel is reachable from a page (browser mode, the
 * Electron renderer), so it must not become a way to read any file the user can read: real
 * paths are compared, so `..` or a symlink that leads out of the data folder is refused, and
 * only regular files of a bounded size are read. A scenario anywhere else on disk is the
 * command line's business (`chimera simulate --scenario FILE`).
 *
 * Errors name the file (relative to the data folder) and what is wrong with it, but never
 * echo what the file holds: no JSON snippet, no unknown key, no line of a persona file.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { z } from 'zod';
import { ValidationError } from '../domain/errors.ts';
import { parseSoulMd } from '../domain/persona.ts';
import type { Persona } from '../domain/schemas.ts';
import { EngineConfigSchema, ScenarioSchema } from '../engine/config.ts';
import { listScenarios, loadPersona, loadScenario, type LoadedScenario } from '../scenarios/load.ts';

/** A scenario file in the data folder is read only up to this size. */
export const MAX_SCENARIO_BYTES = 1 << 20;
/** A persona file beside such a scenario is read only up to this size. */
export const MAX_PERSONA_BYTES = 256 << 10;

/** Opens `nameOrPath` for the studio: a shipped scenario's name, or a .json file inside `dataDir` (relative to it, or absolute). */
export function loadStudioScenario(nameOrPath: string, dataDir: string): LoadedScenario {
  const shipped = listScenarios();
  if (shipped.includes(nameOrPath)) return loadScenario(nameOrPath);
  if (!nameOrPath.endsWith('.json')) {
    throw new ValidationError(`unknown scenario "${nameOrPath}" (shipped: ${shipped.join(', ')}; or a .json file inside the data folder)`);
  }
  const folder = new DataFolder(dataDir);
  const file = folder.file(nameOrPath, 'scenario', MAX_SCENARIO_BYTES);
  const rel = folder.show(file.path);

  let raw: unknown;
  try {
    raw = JSON.parse(file.text);
  } catch (e) {
    // V8's message quotes the text around the error; keep only where it is
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new ValidationError(`scenario ${rel} is not valid JSON${at === undefined ? '' : ` (at character ${at})`}`);
  }
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) throw new ValidationError(`scenario ${rel}: ${issuesWithoutContent(r.error)}`);
  const scenario = r.data;
  const engine = EngineConfigSchema.safeParse(scenario.engine);
  if (!engine.success) throw new ValidationError(`scenario ${rel}: ${issuesWithoutContent(engine.error, ['engine'])}`);

  const personas = scenario.personas.map((id, i) => folder.persona(id, dirname(file.path), `scenario ${rel}: personas.${i}`));
  scenario.campaigns.forEach((c, i) => {
    if (!personas.some((p) => p.id === c.persona)) throw new ValidationError(`scenario ${rel}: campaigns.${i}.persona names a persona that is not in personas`);
  });
  return { scenario, personas, source: file.path };
}

/** The data folder, by its real path; every file read through it must resolve inside it. */
class DataFolder {
  private readonly given: string;
  private readonly root: string;

  constructor(dataDir: string) {
    this.given = resolve(dataDir);
    try {
      this.root = realpathSync(this.given);
    } catch {
      throw new ValidationError(`the data folder ${this.given} does not exist, so it holds no scenario files`);
    }
  }

  /** `p` relative to the data folder, for messages. */
  show(p: string): string {
    return relative(this.root, p) || '.';
  }

  /** True when `p` lies inside the folder (by its real path, or by the path it was given as). */
  private inside(p: string): boolean {
    return within(this.root, p) || within(this.given, p);
  }

  /** A regular file inside the folder (after following every symlink), read up to `max_bytes`. */
  file(given: string, what: string, max_bytes: number): { path: string; text: string } {
    // lexically first: a relative path is taken from the data folder, and `..` may not leave it
    const lexical = resolve(this.given, given);
    if (!this.inside(lexical)) throw new ValidationError(`${what} ${given} is outside the data folder ${this.given} (the studio opens shipped scenarios and files inside the data folder; use the CLI for other paths)`);
    let real: string;
    try {
      real = realpathSync(lexical);
    } catch {
      throw new ValidationError(`${what} file ${this.show(lexical)} does not exist in the data folder ${this.given}`);
    }
    if (!within(this.root, real)) throw new ValidationError(`${what} ${given} leads outside the data folder ${this.given} (through a symlink); refused`);
    // a FIFO or device would block the open or the read: check first, open without blocking,
    // and check again what was opened
    if (!statSync(real).isFile()) throw new ValidationError(`${what} ${this.show(real)} is not a regular file`);
    const fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new ValidationError(`${what} ${this.show(real)} is not a regular file`);
      if (st.size > max_bytes) throw new ValidationError(`${what} ${this.show(real)} is larger than ${max_bytes} bytes`);
      const buf = Buffer.alloc(st.size);
      let n = 0;
      while (n < buf.length) {
        const got = readSync(fd, buf, n, buf.length - n, n);
        if (got === 0) break;
        n += got;
      }
      return { path: real, text: buf.subarray(0, n).toString('utf8') };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * A persona named by a data-folder scenario: `<id>.soul.md` in personas/ beside it or next to
   * it, a `.md` path relative to it (inside the folder), or else a shipped persona.
   */
  persona(id: string, scenarioDir: string, where: string): Persona {
    const candidates = id.endsWith('.md') ? [resolve(scenarioDir, id)] : [join(scenarioDir, 'personas', `${id}.soul.md`), join(scenarioDir, `${id}.soul.md`)];
    for (const candidate of candidates) {
      if (!this.inside(candidate)) throw new ValidationError(`${where} is a path outside the data folder ${this.given}; refused`);
      let found: { path: string; text: string };
      try {
        found = this.file(candidate, 'persona', MAX_PERSONA_BYTES);
      } catch (e) {
        if (e instanceof ValidationError && / does not exist /.test(e.message)) continue;
        throw new ValidationError(`${where}: ${(e as Error).message}`);
      }
      let persona: Persona;
      try {
        persona = parseSoulMd(found.text, found.path);
      } catch (e) {
        const line = ((e as ValidationError).details as { line?: number } | undefined)?.line;
        throw new ValidationError(`${where}: ${this.show(found.path)}${line === undefined ? '' : `:${line}`} is not a valid SOUL.md persona`);
      }
      if (!id.endsWith('.md') && persona.id !== id) throw new ValidationError(`${where}: the id in ${this.show(found.path)} differs from the one the scenario asks for`);
      return persona;
    }
    if (!id.endsWith('.md') && /^[A-Za-z0-9_-]+$/.test(id)) {
      try {
        return loadPersona(id);
      } catch {
        // fall through to the message below
      }
    }
    throw new ValidationError(`${where}: no such persona in personas/ beside the scenario, next to it, or among the shipped personas`);
  }
}

function within(base: string, p: string): boolean {
  const r = relative(base, p);
  return r !== '' && r !== '..' && !r.startsWith('..' + sep) && !isAbsolute(r);
}

/** Each issue's field path and what the schema expects; unknown keys are counted, not quoted. */
function issuesWithoutContent(error: z.ZodError, under: string[] = []): string {
  return error.issues
    .map((i) => {
      const at = [...under, ...i.path.map(String)];
      const path = at.length ? at.join('.') : '(root)';
      if (i.code === 'unrecognized_keys') return `${path}: ${i.keys.length} unknown key${i.keys.length === 1 ? '' : 's'}`;
      return `${path}: ${i.message}`;
    })
    .join('; ');
}
