/**
 * One simulation session: config → ports (composition root) → scenario → engine. Shared by
 * the CLI, the app's server and the benchmarks, so they all run the same thing.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { z } from 'zod';
import { loadConfig, type ChimeraConfig } from '../config/config.ts';
import { composePorts, composeScratchPorts, type ComposedPorts } from '../config/compose.ts';
import { ValidationError } from '../domain/errors.ts';
import { backendForMode, configForBackend, defaultBackend } from '../config/backends/index.ts';
import { PersonaSchema, formatIssues, type Persona } from '../domain/schemas.ts';
import { EngineConfigSchema, ScenarioSchema, type EngineConfig, type Scenario } from '../engine/config.ts';
import { SwarmEngine, type ExternalCommand, type PhaseTimer } from '../engine/engine.ts';
import { eventLogSha256, type EngineEvent } from '../engine/events.ts';
import { foldEvent, newFold, summarize, type EventFold, type RunSummary } from '../engine/summary.ts';
import { VirtualClock } from '../sim/clock.ts';
import { checkScenarioReferences, engineConfigFor, loadScenario, type LoadedScenario } from '../scenarios/load.ts';

/** A backend's name in the registry (src/config/backends), e.g. `memory`. */
export type BackendChoice = string;

export interface SimulationOptions {
  readonly scenario: string | LoadedScenario;
  readonly backend?: BackendChoice;
  /** The store's file, for a backend that keeps one (--backend sqlite --db FILE). */
  readonly db?: string;
  /** Engine settings over the scenario's (seed, workers, faults, …). */
  readonly engine?: Record<string, unknown>;
  /** App config (defaults to loadConfig()). */
  readonly config?: ChimeraConfig;
  readonly keepEvents?: boolean;
  /** Profiler for the benchmark's per-phase breakdown. */
  readonly timer?: PhaseTimer;
  readonly onProgress?: (what: string, done: number, total: number) => void;
}


export class Simulation {
  readonly fold: EventFold = newFold();
  private readonly started = performance.now();

  private constructor(
    readonly engine: SwarmEngine,
    readonly ports: ComposedPorts,
    readonly backend: BackendChoice,
    readonly loaded: LoadedScenario,
    readonly engineConfig: EngineConfig,
  ) {
    for (const e of engine.log.all()) foldEvent(this.fold, e);
  }

  static async open(opts: SimulationOptions): Promise<Simulation> {
    const loaded = typeof opts.scenario === 'string' ? loadScenario(opts.scenario) : opts.scenario;
    const engineConfig = engineConfigFor(loaded.scenario, opts.engine ?? {});
    const backend = opts.backend ?? defaultBackend().kind;
    const config = configForBackend(opts.config ?? loadConfig(), backend, opts.db);
    const clock = new VirtualClock();
    const ports = await composePorts(config, clock, opts.onProgress);
    try {
      const engine = await SwarmEngine.create({
        ports,
        clock,
        scenario: loaded.scenario,
        personas: loaded.personas,
        config: engineConfig,
        keepEvents: opts.keepEvents ?? true,
        ...(opts.timer ? { timer: opts.timer } : {}),
        scratch: () => composeScratchPorts(clock, ports.embedder),
        checkpoint: backendForMode(config.mode).checkpoint?.(config) ?? 'tick',
      });
      return new Simulation(engine, ports, backend, loaded, engineConfig);
    } catch (e) {
      await ports.close();
      throw e;
    }
  }

  /** Steps the engine and folds each step's events into the running summary. */
  async step() {
    const r = await this.engine.step();
    if (r) for (const e of r.events) foldEvent(this.fold, e);
    return r;
  }

  /** Applies an outside command (a human decision, a pause) as the next step and folds its events. */
  async command(cmd: ExternalCommand, at?: { tick: number; cursor: number }) {
    const r = await this.engine.command(cmd, at);
    for (const e of r.events) foldEvent(this.fold, e);
    return r;
  }

  /** Runs to completion (or max_ticks / until_tick), reporting progress every `every` steps. */
  async run(opts: { until_tick?: number; onProgress?: (s: Simulation) => void; every?: number; shouldStop?: () => boolean } = {}): Promise<void> {
    const fold = this.fold;
    const { onProgress } = opts;
    const every = opts.every ?? 1000;
    let n = 0;
    await this.engine.run({
      ...(opts.until_tick !== undefined ? { until_tick: opts.until_tick } : {}),
      ...(opts.shouldStop ? { shouldStop: opts.shouldStop } : {}),
      onStep: (r) => {
        for (const e of r.events) foldEvent(fold, e);
        if (onProgress && ++n % every === 0) onProgress(this);
      },
    });
  }

  summary(): RunSummary {
    return summarize(this.fold, {
      seed: this.engineConfig.seed,
      backend: this.backend,
      scenario: this.loaded.scenario.name,
      finished: this.engine.finished,
      sha256: this.engine.log.sha256(),
      elapsedMs: performance.now() - this.started,
      ticks: this.engine.tickNo,
    });
  }

  /** Writes the run file: a header line, one line per event, a summary line (JSON lines). */
  async writeRunFile(path: string): Promise<void> {
    const out = createWriteStream(path);
    const header: RunFileHeader = {
      format: 'chimera-run',
      version: 1,
      seed: this.engineConfig.seed,
      backend: this.backend,
      scenario: this.loaded.scenario,
      personas: this.loaded.personas,
      config: this.engineConfig,
    };
    const write = async (line: string) => {
      if (!out.write(line + '\n')) await once(out, 'drain');
    };
    await write(JSON.stringify(header));
    for (const e of this.engine.log.all()) await write(JSON.stringify(e));
    await write(JSON.stringify({ summary: this.summary() }));
    out.end();
    await once(out, 'finish');
  }

  async close(): Promise<void> {
    await this.ports.close();
  }
}

export interface RunFileHeader {
  readonly format: 'chimera-run';
  readonly version: 1;
  readonly seed: number;
  readonly backend: string;
  readonly scenario: Scenario;
  readonly personas: readonly Persona[];
  readonly config: EngineConfig;
}

const HeaderSchema = z.object({
  format: z.literal('chimera-run'),
  version: z.literal(1),
  seed: z.int(),
  backend: z.string(),
  scenario: ScenarioSchema,
  personas: z.array(PersonaSchema),
  config: EngineConfigSchema,
});

export interface RunFile {
  readonly header: RunFileHeader;
  readonly events: EngineEvent[];
  readonly summary: RunSummary | null;
}

/** The fields of a run file's summary line that readRunFile checks against the events. */
const SummaryLineSchema = z.object({
  steps: z.int().min(0),
  ticks: z.int().min(0),
  eventLogSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/**
 * Reads and validates a run file; errors name the file and the line. A run file is whole only
 * with its summary line last, and that summary must agree with the events above it (last step
 * and the event log's SHA-256): a file cut short, even at a line boundary, is refused as
 * truncated rather than replayed as if the run had ended there.
 */
export function readRunFile(path: string): RunFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ValidationError(code === 'EISDIR' ? `run file ${path} is a folder, not a file` : `cannot read run file ${path}: ${(e as Error).message}`);
  }
  const lines = text.split('\n');
  // the writer ends every line with "\n": a last line without one was cut mid-line
  const cut = lines.at(-1) !== '';
  if (!cut) lines.pop();
  const parse = (l: string, i: number): unknown => {
    try {
      return JSON.parse(l);
    } catch (e) {
      if (cut && i === lines.length - 1) throw new ValidationError(`${path}:${i + 1}: truncated run file: its last line is cut short`);
      throw new ValidationError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
  };
  if (lines.every((l) => l.trim().length === 0)) throw new ValidationError(`${path}: empty file, not a run file`);
  const h = HeaderSchema.safeParse(parse(lines[0] as string, 0));
  if (!h.success) throw new ValidationError(`${path}:1: not a chimera run header: ${formatIssues(h.error)}`);
  checkScenarioReferences(h.data.scenario, `${path}:1: scenario`);
  const events: EngineEvent[] = [];
  let summary: RunSummary | null = null;
  let summaryLine = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim().length === 0) throw new ValidationError(`${path}:${i + 1}: blank line in a run file`);
    const v = parse(line, i) as Record<string, unknown>;
    if (summary) throw new ValidationError(`${path}:${i + 1}: a line after the summary line ${summaryLine} (the summary must be last)`);
    if (v && typeof v === 'object' && 'summary' in v) {
      const s = SummaryLineSchema.safeParse(v.summary);
      if (!s.success) throw new ValidationError(`${path}:${i + 1}: not a run summary: ${formatIssues(s.error)}`);
      summary = v.summary as RunSummary;
      summaryLine = i + 1;
    } else if (v && typeof v.step === 'number' && typeof v.type === 'string') {
      const prev = events.at(-1);
      if (prev && v.step < prev.step) throw new ValidationError(`${path}:${i + 1}: event step ${v.step} comes after step ${prev.step}`);
      events.push(v as unknown as EngineEvent);
    } else throw new ValidationError(`${path}:${i + 1}: not an engine event`);
  }
  if (!summary) {
    throw new ValidationError(`${path}: truncated run file: no summary line after its ${events.length} events (the file was cut short, or the run did not finish writing it)`);
  }
  const last = events.at(-1)?.step ?? 0;
  if (summary.steps !== last) {
    throw new ValidationError(`${path}: truncated run file: the summary counts ${summary.steps} steps but the events end at step ${last}`);
  }
  if (eventLogSha256(events) !== summary.eventLogSha256) {
    throw new ValidationError(`${path}: the events do not match the summary's eventLogSha256 (the file was edited or damaged)`);
  }
  return { header: h.data as RunFileHeader, events, summary };
}
