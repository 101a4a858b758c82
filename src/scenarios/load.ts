/**
 * Loads scenarios and personas from disk: a scenario is a name from examples/scenarios or a
 * path to a JSON file; a persona id resolves to <id>.soul.md beside the scenario (in
 * personas/) or in examples/personas. Every error names the file and what was wrong.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../domain/errors.ts';
import { parseSoulMd } from '../domain/persona.ts';
import { formatIssues, personaIdProblem, unsafeCharKind, type Persona } from '../domain/schemas.ts';
import { EngineConfigSchema, ScenarioSchema, type EngineConfig, type Scenario } from '../engine/config.ts';
import { mergeDeep } from '../util/merge-deep.ts';

export const EXAMPLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples');

/** Names of the shipped scenarios. */
export function listScenarios(): string[] {
  return readdirSync(join(EXAMPLES_DIR, 'scenarios'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

export interface LoadedScenario {
  readonly scenario: Scenario;
  readonly personas: Persona[];
  /** Where the scenario came from (a file path). */
  readonly source: string;
}

export function loadScenario(nameOrFile: string, cwd = process.cwd()): LoadedScenario {
  const looksLikeFile = nameOrFile.endsWith('.json') || nameOrFile.includes('/');
  const file = looksLikeFile
    ? isAbsolute(nameOrFile)
      ? nameOrFile
      : resolve(cwd, nameOrFile)
    : join(EXAMPLES_DIR, 'scenarios', `${nameOrFile}.json`);
  if (!existsSync(file)) {
    throw new ValidationError(
      looksLikeFile
        ? `scenario file ${file} does not exist`
        : `unknown scenario "${nameOrFile}" (shipped: ${listScenarios().join(', ')}; or give a path to a .json file)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ValidationError(code === 'EISDIR' ? `scenario ${file} is a folder, not a file` : `cannot read scenario ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`scenario ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) throw new ValidationError(`scenario ${file}: ${formatIssues(r.error)}`);
  const scenario = r.data;
  checkScenarioReferences(scenario, `scenario ${file}`);
  const personas = scenario.personas.map((id) => loadPersona(id, dirname(file)));
  for (const [i, c] of scenario.campaigns.entries()) {
    if (!personas.some((p) => p.id === c.persona)) {
      throw new ValidationError(`scenario ${file}: campaigns.${i}.persona: campaign "${c.title}" names persona "${c.persona}", which is not in personas`);
    }
  }
  for (const [i, m] of scenario.memories.entries()) {
    if (!personas.some((p) => p.id === m.persona)) {
      throw new ValidationError(`scenario ${file}: memories.${i}.persona: persona "${m.persona}" is not in personas`);
    }
  }
  return { scenario, personas, source: file };
}

/** A SOUL.md a scenario names by path: relative, inside the scenario's folder. */
const SOUL_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\\]*\.md$/;

/**
 * What the schema cannot see: persona ids follow the domain's rule (personas may also name a
 * SOUL.md inside the scenario's folder), and operator actions name campaigns that exist.
 * `where` starts each message (the scenario file, or a run file's header line).
 */
export function checkScenarioReferences(scenario: Scenario, where: string): void {
  const fail = (field: string, msg: string): never => {
    throw new ValidationError(`${where}: ${field}: ${msg}`);
  };
  for (const [i, p] of scenario.personas.entries()) {
    if (p.endsWith('.md')) {
      if (!SOUL_PATH.test(p) || [...p].some((c) => unsafeCharKind(c.codePointAt(0) ?? 0))) fail(`personas.${i}`, `"${p}" must be a SOUL.md path inside the scenario's folder (relative, without "..")`);
      continue;
    }
    const problem = personaIdProblem(p);
    if (problem) fail(`personas.${i}`, problem);
  }
  for (const [i, c] of scenario.campaigns.entries()) {
    const problem = personaIdProblem(c.persona);
    if (problem) fail(`campaigns.${i}.persona`, problem);
  }
  for (const [i, m] of scenario.memories.entries()) {
    const problem = personaIdProblem(m.persona);
    if (problem) fail(`memories.${i}.persona`, problem);
  }
  const n = scenario.campaigns.length;
  for (const [i, o] of scenario.operator.entries()) {
    if (o.campaign >= n) {
      fail(`operator.${i}.campaign`, `campaign ${o.campaign} does not exist (the scenario has ${n} campaign${n === 1 ? '' : 's'}, numbered from 0 to ${n - 1})`);
    }
  }
}

/** Resolves a persona id (or a path to a SOUL.md) and parses it. */
export function loadPersona(idOrFile: string, scenarioDir?: string): Persona {
  if (!idOrFile.endsWith('.md')) {
    const problem = personaIdProblem(idOrFile);
    if (problem) throw new ValidationError(`persona "${idOrFile}": ${problem}`);
  }
  const candidates = idOrFile.endsWith('.md')
    ? [resolve(scenarioDir ?? process.cwd(), idOrFile)]
    : [
        ...(scenarioDir ? [join(scenarioDir, 'personas', `${idOrFile}.soul.md`), join(scenarioDir, `${idOrFile}.soul.md`)] : []),
        join(EXAMPLES_DIR, 'personas', `${idOrFile}.soul.md`),
      ];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new ValidationError(`persona "${idOrFile}" not found (looked for ${candidates.join(', ')})`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ValidationError(`cannot read persona ${file}: ${(e as Error).message}`);
  }
  const persona = parseSoulMd(text, file);
  if (!idOrFile.endsWith('.md') && persona.id !== idOrFile) {
    throw new ValidationError(`${file}: id is "${persona.id}" but the scenario asks for "${idOrFile}"`);
  }
  return persona;
}

/** Engine config: defaults, then the scenario's `engine` block, then overrides (CLI flags). */
export function engineConfigFor(scenario: Scenario, overrides: Record<string, unknown> = {}): EngineConfig {
  const merged = mergeDeep(scenario.engine as Record<string, unknown>, overrides);
  const r = EngineConfigSchema.safeParse(merged);
  if (!r.success) throw new ValidationError(`engine settings of scenario "${scenario.name}": ${formatIssues(r.error)}`);
  return r.data;
}
