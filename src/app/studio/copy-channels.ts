/**
 * The 'copy/…' channels: the Copy panel's whole-state copy between stores (src/app/copy.ts, the
 * same copy as `chimera copy`), run in the background of the app.
 *
 * - `copy/sides` lists what can be copied from and to: the in-memory session (when it is the
 *   active profile), the SQLite profiles of the data folder by name (a new name is a new profile),
 *   production as configured; each says why it cannot be one end where it cannot (read-only, not
 *   configured, the active profile as a target).
 * - `copy/start {from, to}` opens both sides (src/config/copy-sides.ts resolves them; nothing
 *   about a side is decided here), checks the target (empty, or holding this same copy stopped
 *   earlier: then it resumes) and answers once the copy is under way; an error before that (a
 *   read-only target, a non-empty one, a side that cannot be opened) is the call's error.
 * - Progress is pushed as `{type:'copy'}` messages (at most every PUSH_MS, and at every change of
 *   phase or state) with the phase, the section, records done of the whole copy, the rate and the
 *   time left; `copy/status` answers the same for a view opened late.
 * - `copy/cancel` stops the copy at its next page: what it committed stays, and starting the same
 *   copy again resumes it.
 *
 * One copy at a time. The copy never takes the session's exclusive lock: it reads and writes a
 * page at a time and gives the event loop a turn after each, so every other request is served
 * while it runs. When the active profile is the source, its run is paused and flushed first (a
 * run that goes on during the copy changes the source, and the verification then says so); the
 * active profile cannot be the target (it has a writer: the session).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { copyState, CopyCancelledError, CopyVerificationError, type CopyProgress, type CopyResult } from '../copy.ts';
import { openCopySide, copySideFile, type CopySettings, type CopySideSpec, type HeldMemoryStore, type OpenedCopySide } from '../../config/copy-sides.ts';
import { backendByKind } from '../../config/backends/index.ts';
import { ChimeraError, ValidationError } from '../../domain/errors.ts';
import type { ConnectionsView, CopyResultView, CopySideArg, CopySideView, CopyStatusView } from '../../shared/types.ts';
import type { NamespaceHandlers, StudioContext } from './context.ts';

type CopyContext = Pick<StudioContext, 'config' | 'current' | 'exclusive' | 'stopRun' | 'push' | 'onClose' | 'connectionConfig' | 'dropInspectReaders'> & {
  /** The connection profiles (listed as sides; a read-only one cannot be a target). */
  readonly connections: () => ConnectionsView;
};

/** Rows per page of an app copy: smaller than the CLI's, so one page holds the event loop briefly. */
export const APP_COPY_PAGE = 250;
/** Progress pushes at most this often (a change of phase or state is pushed at once). */
const PUSH_MS = 100;

/** A copy in progress or the last one. */
interface Job {
  status: CopyStatusView;
  readonly abort: AbortController;
  /** Settles when the copy has stopped (whatever the outcome) and its sides are closed. */
  done: Promise<void>;
}

const nameOf = (s: CopySideArg): string | null => ('name' in s ? s.name : null);
const sameSide = (a: CopySideArg, b: CopySideArg) => a.kind === b.kind && nameOf(a) === nameOf(b);
const sideText = (s: CopySideArg) => (s.kind === 'sqlite' ? `SQLite profile "${s.name}"` : s.kind === 'connection' ? `connection "${s.name}"` : s.kind === 'memory' ? 'memory' : 'production');

/** The spec a UI side names (a SQLite side is a named profile of the data folder). */
function specOf(side: CopySideArg): CopySideSpec {
  return side.kind === 'sqlite' ? { kind: 'profile', name: side.name } : side;
}

export function copyChannels(ctx: CopyContext): NamespaceHandlers<'copy'> {
  let job: Job | null = null;
  let ids = 0;
  let seq = 0;
  let lastPush = 0;

  const running = () => job !== null && (job.status.state === 'running' || job.status.state === 'cancelling');
  const publish = (j: Job, patch: Partial<CopyStatusView>, force: boolean) => {
    const phaseChanged = (patch.phase !== undefined && patch.phase !== j.status.phase) || (patch.state !== undefined && patch.state !== j.status.state) || (patch.side !== undefined && patch.side !== j.status.side);
    j.status = { ...j.status, ...patch, seq: ++seq };
    const now = performance.now();
    if (!force && !phaseChanged && now - lastPush < PUSH_MS) return;
    lastPush = now;
    ctx.push({ type: 'copy', copy: j.status });
  };

  ctx.onClose(async () => {
    if (!job) return;
    job.abort.abort();
    await job.done;
  });

  /** Is `side` the active session's profile? */
  const isActive = (side: CopySideArg): boolean => {
    const p = ctx.current().profile;
    if (side.kind === 'sqlite') return p.kind === 'sqlite' && p.name === side.name;
    if (side.kind === 'connection') return p.kind === 'production' && p.name === side.name;
    if (side.kind === 'production') return p.kind === 'production' && p.name === null;
    return p.kind === side.kind;
  };

  /** The in-memory session as a source (its ports and persona memory). */
  const held = (): HeldMemoryStore | undefined => {
    const s = ctx.current();
    if (s.profile.kind !== 'memory') return undefined;
    return { label: `memory (the in-memory run: ${s.sim.loaded.scenario.name}, seed ${s.sim.engineConfig.seed})`, ports: s.sim.ports, memory: s.sim.ports.memory };
  };

  async function start(from: CopySideArg, to: CopySideArg): Promise<CopyStatusView> {
    if (running()) throw new ValidationError(`a copy is already running (${job?.status.from_label} → ${job?.status.to_label}); cancel it or wait for it to end`, { fields: ['from'] });
    if (sameSide(from, to)) throw new ValidationError(`to: ${sideText(to)} is also the source; copy into another store`, { fields: ['to'] });
    if (to.kind !== 'memory' && isActive(to)) {
      throw new ValidationError(`to: ${sideText(to)} is the active profile (the session writes into it); switch to another profile first, or copy into another one`, { fields: ['to'] });
    }
    if (from.kind === 'memory' && !held()) throw new ValidationError('from: the active profile is not in memory, so there is no in-memory state to copy; pick a SQLite profile or production', { fields: ['from'] });
    if (isActive(from)) {
      // the source stands still while it is read: its run pauses and what it holds is written out
      await ctx.stopRun();
      await ctx.exclusive(() => ctx.current().sim.engine.flush());
    }
    const h = held();
    const settings: CopySettings = { config: ctx.config, connection: (name) => ctx.connectionConfig(name), ...(h ? { held: h } : {}) };
    const opened: OpenedCopySide[] = [];
    const closeSides = async () => {
      for (const s of opened.reverse()) await s.close().catch(() => undefined);
    };
    try {
      opened.push(await openCopySide(specOf(from), 'source', settings));
      opened.push(await openCopySide(specOf(to), 'target', settings));
    } catch (e) {
      await closeSides();
      throw e;
    }
    const [source, target] = opened as [OpenedCopySide, OpenedCopySide];
    const t0 = performance.now();
    const j: Job = {
      abort: new AbortController(),
      done: Promise.resolve(),
      status: {
        id: ++ids,
        from,
        to,
        from_label: source.label,
        to_label: target.label,
        state: 'running',
        phase: 'opening',
        section: null,
        side: null,
        section_done: 0,
        section_total: 0,
        done: 0,
        total: 0,
        rate_per_s: null,
        eta_s: null,
        elapsed_s: 0,
        resumed: null,
        result: null,
        error: null,
        seq: ++seq,
      },
    };
    job = j;
    // the rate counts what this run did: a resumed copy starts where the last one stopped
    let first: { at: number; done: number } | null = null;
    const onProgress = (p: CopyProgress) => {
      const at = performance.now();
      first ??= { at, done: p.overall_done };
      const secs = (at - first.at) / 1000;
      const rate = secs > 0.2 ? (p.overall_done - first.done) / secs : null;
      publish(
        j,
        {
          phase: p.phase,
          section: p.section,
          side: p.side,
          section_done: p.done,
          section_total: p.total,
          done: p.overall_done,
          total: p.overall_total,
          rate_per_s: rate === null ? null : Math.round(rate),
          eta_s: rate && rate > 0 ? Math.round((p.overall_total - p.overall_done) / rate) : null,
          elapsed_s: Math.round((at - t0) / 100) / 10,
        },
        false,
      );
    };
    let started!: (resumed: boolean) => void;
    const startedP = new Promise<boolean>((r) => (started = r));
    const outcome = copyState(source, target, {
      pageSize: APP_COPY_PAGE,
      signal: j.abort.signal,
      onProgress,
      onStarted: ({ resumed }) => {
        publish(j, { resumed }, true);
        started(resumed);
      },
    });
    j.done = outcome.then(
      (r) => publish(j, { state: 'finished', phase: 'done', done: j.status.total, eta_s: 0, elapsed_s: secondsSince(t0), result: resultView(r, secondsSince(t0)) }, true),
      (e: unknown) => {
        if (e instanceof CopyCancelledError) publish(j, { state: 'cancelled', eta_s: null, elapsed_s: secondsSince(t0), error: null }, true);
        else publish(j, { state: 'failed', eta_s: null, elapsed_s: secondsSince(t0), error: errorView(e) }, true);
      },
    ).finally(async () => {
      await closeSides();
      // the Inspector's open readers of the target would not see the tables and files the copy made
      await ctx.dropInspectReaders();
      // the profiles' list changed (a new profile, a copy record beside one)
      ctx.push({ type: 'changed', what: 'data' });
    });
    // answer once the target is accepted, or with the reason it was not
    const first_ = await Promise.race([startedP.then(() => null), outcome.then(() => null, (e: unknown) => e)]);
    if (first_ !== null && j.status.resumed === null) {
      await j.done;
      throw first_;
    }
    return j.status;
  }

  return {
    'copy/sides': async () => ({ sides: listSides(ctx, held()), copy: job?.status ?? null }),
    'copy/start': (a) => start(a.from, a.to),
    'copy/cancel': async () => {
      if (job && job.status.state === 'running') {
        job.abort.abort();
        publish(job, { state: 'cancelling' }, true);
      }
      return { copy: job?.status ?? null };
    },
    'copy/status': async () => ({ copy: job?.status ?? null }),
  };
}

const secondsSince = (t0: number) => Math.round((performance.now() - t0) / 100) / 10;

function resultView(r: CopyResult, seconds: number): CopyResultView {
  return {
    resumed: r.resumed,
    already_finished: r.already_finished,
    digest: r.digest,
    source_digest: r.source_digest,
    digests_equal: r.digests_equal,
    unlisted: r.unlisted,
    memories_compared: r.memories_compared,
    chains: r.chains,
    counts: { ...r.counts },
    written: { ...r.written },
    notes: r.notes,
    seconds,
    tasks_per_s: seconds > 0 ? Math.round((r.written.tasks ?? 0) / seconds) : 0,
  };
}

/** An error as the panel shows it: a verification that failed is a conflict with the source (it changed) or a broken chain. */
function errorView(e: unknown): { code: string; message: string } {
  if (e instanceof CopyVerificationError) return { code: e.sections.includes('audit') && /does not verify/.test(e.message) ? 'AUDIT_CHAIN_BROKEN' : 'CONFLICT', message: e.message };
  if (e instanceof ChimeraError) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: (e as Error).message };
}

/** The sides the panel offers, each with why it cannot be one end (null: it can). */
function listSides(ctx: CopyContext, held: HeldMemoryStore | undefined): CopySideView[] {
  const sides: CopySideView[] = [];
  const active = ctx.current().profile;
  sides.push({
    side: { kind: 'memory' },
    label: held ? 'In-memory run' : 'Memory',
    detail: held
      ? `${held.label}; as a target: a check (the copy is made in memory, verified and dropped)`
      : 'as a target: a check (the copy is made in memory, verified and dropped)',
    not_from: held ? null : 'the active profile is not in memory: there is no in-memory state to copy',
    not_to: null,
  });
  const dir = join(resolve(ctx.config.data_dir), 'profiles');
  const settings: CopySettings = { config: ctx.config };
  const sqliteRO = ctx.config.sqlite.read_only;
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      const side: CopySideArg = { kind: 'sqlite', name };
      let file: string;
      try {
        file = copySideFile(specOf(side), settings) as string;
      } catch {
        continue;
      }
      if (!existsSync(file)) continue;
      const isActive = active.kind === 'sqlite' && active.name === name;
      sides.push({
        side,
        label: `SQLite “${name}”`,
        detail: `${file}${copyRecordNote(file)}`,
        not_from: null,
        not_to: isActive ? 'the active profile (the session writes into it): switch to another profile first' : sqliteRO ? 'the SQLite profiles are read-only (sqlite.read_only in the config)' : null,
      });
    }
  }
  const prod = backendByKind('production');
  const problem = prod.check?.({ ...ctx.config, mode: prod.mode }, 'config') ?? null;
  const p = ctx.config.production;
  sides.push({
    side: { kind: 'production' },
    label: 'Production',
    detail: problem ? 'not configured' : `${prod.describe({ ...ctx.config, mode: prod.mode })}${p.weaviate_url ? '' : ' — without Weaviate its persona memory is each process\'s own: memories are not copied to or from it'}`,
    not_from: problem,
    not_to: problem ?? (p.read_only ? 'open read-only (CHIMERA_READ_ONLY or production.read_only in the config): a copy cannot write into it' : active.kind === 'production' && active.name === null ? 'the active profile (the session writes into it): switch to another profile first' : null),
  });
  for (const c of ctx.connections().connections) {
    const isActive = active.kind === 'production' && active.name === c.name;
    sides.push({
      side: { kind: 'connection', name: c.name },
      label: `Connection “${c.name}”`,
      detail: `${c.postgres_url ?? ''}${c.schema !== 'public' ? ` (schema ${c.schema})` : ''}${c.redis_url ? ` · ${c.redis_url}` : ''}${c.weaviate_url ? ` · ${c.weaviate_url}` : " — without Weaviate its persona memory is each process's own: memories are not copied to or from it"}`,
      not_from: null,
      not_to: c.read_only ? 'read-only: make the connection read-write first (Connections; it asks to confirm)' : isActive ? 'the active profile (the session writes into it): switch to another profile first' : null,
    });
  }
  return sides;
}

/** What the copy record beside a SQLite file says (an unfinished copy resumes when started again). */
function copyRecordNote(file: string): string {
  const path = `${file}.copy.json`;
  if (!existsSync(path)) return '';
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as { source?: string; finished_at?: string | null };
    return r.finished_at ? ` — a finished copy of ${r.source}` : ` — an unfinished copy of ${r.source}: copying it again resumes`;
  } catch {
    return ' — a copy record that cannot be read';
  }
}
