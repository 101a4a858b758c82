/**
 * The branches of the run's history. Replaying from step N (the timeline) starts a branch and
 * keeps the one it came from; every branch stays reachable:
 * - a branch on a backend that keeps a file (SQLite) is a profile of its own, a new file beside
 *   the original (profiles/<name>-at-<N>/…), so it stays on that backend and reopens after a
 *   restart (the list of them, with where each came from, is kept in studio-branches.json);
 * - an in-memory branch lives while the app runs: when another branch is active it is kept as
 *   its run (settings and event log) and rebuilt by replay, exactly, when switched back to.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { EngineEvent } from '../../engine/events.ts';
import { BACKEND_KINDS, type BackendProfile, type BranchView } from '../../shared/types.ts';
import type { RunFileHeader } from '../simulation.ts';

export const BRANCHES_FILE = 'studio-branches.json';

export interface BranchRecord {
  readonly id: string;
  label: string;
  parent: string | null;
  forked_at: number | null;
  readonly profile: BackendProfile;
  scenario: string;
  seed: number;
  /** The last step it held when it was last seen. */
  step: number;
  /** An inactive in-memory branch: its run, to rebuild it (and the queue-depth samples its charts had). */
  stored: { header: RunFileHeader; events: readonly EngineEvent[]; depths: { tick: number; task: number; review: number }[] } | null;
}

const SavedSchema = z.array(
  z.object({
    id: z.string(),
    label: z.string(),
    parent: z.string().nullable(),
    forked_at: z.int().nullable(),
    profile: z.object({ kind: z.enum(BACKEND_KINDS), name: z.string().nullable(), path: z.string().nullable() }),
    scenario: z.string(),
    seed: z.int(),
    step: z.int(),
  }),
);

export class Branches {
  private readonly records = new Map<string, BranchRecord>();
  private memoryCount = 0;
  private readonly path: string;

  constructor(data_dir: string) {
    this.path = join(data_dir, BRANCHES_FILE);
    if (!existsSync(this.path)) return;
    try {
      for (const r of SavedSchema.parse(JSON.parse(readFileSync(this.path, 'utf8')))) {
        // a file branch whose file is gone is no longer reachable
        if (r.profile.path && existsSync(r.profile.path)) this.records.set(r.id, { ...r, stored: null });
      }
    } catch {
      // a damaged list: the profiles themselves are still in the Backend view
      renameSync(this.path, `${this.path}.bad`);
    }
  }

  static idOf(profile: BackendProfile): string | null {
    return profile.path !== null ? `${profile.kind}:${profile.name ?? profile.path}` : null;
  }

  get(id: string): BranchRecord | undefined {
    return this.records.get(id);
  }

  /** The record of a file profile (made as a root if it has none) . */
  forFile(profile: BackendProfile, run: { scenario: string; seed: number; step: number }, fresh: boolean): BranchRecord {
    const id = Branches.idOf(profile) as string;
    let r = this.records.get(id);
    if (!r || fresh) {
      r = { id, label: `${profile.kind === 'sqlite' ? 'SQLite' : profile.kind} “${profile.name ?? profile.path}”`, parent: null, forked_at: null, profile, ...run, stored: null };
      this.records.set(id, r);
    }
    this.save();
    return r;
  }

  /** A new in-memory branch (a new run when `parent` is null). */
  newMemory(profile: BackendProfile, run: { scenario: string; seed: number; step: number }, parent: BranchRecord | null, forked_at: number | null): BranchRecord {
    this.memoryCount += 1;
    const id = `memory:${this.memoryCount}`;
    const label = parent ? `in-memory branch ${this.memoryCount}` : `in-memory run ${this.memoryCount}`;
    const r: BranchRecord = { id, label, parent: parent?.id ?? null, forked_at, profile, ...run, stored: null };
    this.records.set(id, r);
    return r;
  }

  /** A new file branch replayed from `parent` at `forked_at` (its profile made by the caller). */
  newFile(profile: BackendProfile, run: { scenario: string; seed: number; step: number }, parent: BranchRecord, forked_at: number): BranchRecord {
    const id = Branches.idOf(profile) as string;
    const r: BranchRecord = { id, label: `SQLite “${profile.name}”`, parent: parent.id, forked_at, profile, ...run, stored: null };
    this.records.set(id, r);
    this.save();
    return r;
  }

  hasChildren(id: string): boolean {
    for (const r of this.records.values()) if (r.parent === id) return true;
    return false;
  }

  remove(id: string): void {
    this.records.delete(id);
  }

  update(r: BranchRecord): void {
    if (r.profile.path !== null) this.save();
  }

  list(activeId: string | null, activeStep: number): BranchView[] {
    return [...this.records.values()].map((r) => ({
      id: r.id,
      label: r.label,
      parent: r.parent,
      forked_at: r.forked_at,
      backend: r.profile.kind,
      profile_name: r.profile.name,
      scenario: r.scenario,
      seed: r.seed,
      step: r.id === activeId ? activeStep : r.step,
      active: r.id === activeId,
    }));
  }

  private save(): void {
    const saved = [...this.records.values()]
      .filter((r) => r.profile.path !== null)
      .map(({ id, label, parent, forked_at, profile, scenario, seed, step }) => ({ id, label, parent, forked_at, profile, scenario, seed, step }));
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(saved, null, 2) + '\n');
    renameSync(tmp, this.path);
  }
}
