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
import { PersonaSchema, formatIssues, type Persona } from '../domain/schemas.ts';
import { EngineConfigSchema, ScenarioSchema, type EngineConfig, type Scenario } from '../engine/config.ts';
import { SwarmEngine, type ExternalCommand, type PhaseTimer } from '../engine/engine.ts';
import type { EngineEvent } from '../engine/events.ts';
import { foldEvent, newFold, summarize, type EventFold, type RunSummary } from '../engine/summary.ts';
import { VirtualClock } from '../sim/clock.ts';
import { engineConfigFor, loadScenario, type LoadedScenario } from '../scenarios/load.ts';

export const BACKEND_CHOICES = ['memory', 'sqlite'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

export interface SimulationOptions {
  readonly scenario: string | LoadedScenario;
  readonly backend?: BackendChoice;
  /** SQLite file for --backend sqlite. */
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

export function backendConfig(base: ChimeraConfig, backend: BackendChoice, db?: string): ChimeraConfig {
  if (backend === 'memory') return { ...base, mode: 'in-memory' };
  if (!db) throw new ValidationError('--backend sqlite needs --db FILE');
  return { ...base, mode: 'sqlite', sqlite: { ...base.sqlite, path: db } };
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
    const backend = opts.backend ?? 'memory';
    const config = backendConfig(opts.config ?? loadConfig(), backend, opts.db);
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
        checkpoint: config.mode === 'sqlite' && config.sqlite.commit === 'each' ? 'step' : 'tick',
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

/** Reads and validates a run file; errors name the file and the line. */
export function readRunFile(path: string): RunFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ValidationError(`cannot read run file ${path}: ${(e as Error).message}`);
  }
  const lines = text.split('\n').filter((l) => l.trim().length > 0);
  const parse = (l: string, i: number): unknown => {
    try {
      return JSON.parse(l);
    } catch (e) {
      throw new ValidationError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
  };
  if (lines.length === 0) throw new ValidationError(`${path}: empty file, not a run file`);
  const h = HeaderSchema.safeParse(parse(lines[0] as string, 0));
  if (!h.success) throw new ValidationError(`${path}:1: not a chimera run header: ${formatIssues(h.error)}`);
  const events: EngineEvent[] = [];
  let summary: RunSummary | null = null;
  for (let i = 1; i < lines.length; i++) {
    const v = parse(lines[i] as string, i) as Record<string, unknown>;
    if (v && typeof v === 'object' && 'summary' in v) summary = v.summary as RunSummary;
    else if (v && typeof v.step === 'number' && typeof v.type === 'string') events.push(v as unknown as EngineEvent);
    else throw new ValidationError(`${path}:${i + 1}: not an engine event`);
  }
  return { header: h.data as RunFileHeader, events, summary };
}
