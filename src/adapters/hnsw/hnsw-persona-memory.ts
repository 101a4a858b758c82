/**
 * Persona memory on an HNSW graph (hnswlib-node, cosine space): the local stand-in for
 * Weaviate's PersonaMemory class. The rows (memory, vector, model) live in the folder's
 * SQLite rows file, which is the truth; the graph is a cache saved beside it (`index.hnsw`
 * plus the `index.json` sidecar) on close and after a rebuild, and rebuilt from the rows —
 * with progress — whenever it is missing, stale or corrupt.
 *
 * Search: the graph proposes candidates, which are re-scored exactly from the stored vectors
 * (so scores match the exact adapters to the last bit and ties order by id). Filters by
 * persona and category run inside hnswlib's search through a label filter, with k widened by
 * the filter's selectivity; a filter that leaves few memories (≤ exact_scan_max) is answered
 * by an exact scan of those rows instead, and so is a graph search that comes back short.
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import hnswlib from 'hnswlib-node';
import { MEMORY_CATEGORIES, type MemoryCategory, type PersonaMemory } from '../../domain/schemas.ts';
import type { MemoryFilter, MemoryHit, MemoryQuery, MemoryRecord, MemoryScanPage, PersonaMemoryStore } from '../../ports/persona-memory.ts';
import { compareHits, matchesMemoryFilter, stripVector } from '../shared/memory-helpers.ts';
import { dot } from '../../domain/vectors.ts';
import { MemoryRowStore, type StoredRow } from './hnsw-row-store.ts';
import { checkIndexFile, writeSidecar, type IndexExpectation } from './hnsw-index-file.ts';
import { ReadOnlyDatabaseError } from '../shared/sqlite-read-only.ts';
import { ValidationError } from '../../domain/errors.ts';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

/** HNSW parameters (config.memory.hnsw). */
export interface HnswParams {
  /** Graph degree: more is better recall, more memory. */
  readonly M: number;
  readonly ef_construction: number;
  /** Candidate list size at search time (raised to k when k is larger). */
  readonly ef: number;
}

export interface HnswPersonaMemoryOptions extends HnswParams {
  /** The folder that holds rows.sqlite, index.hnsw and index.json. */
  readonly dir: string;
  /** A filter that leaves at most this many memories is answered by an exact scan (default 256). */
  readonly exact_scan_max?: number;
  /** Reports rebuild progress. */
  readonly onProgress?: (what: string, done: number, total: number) => void;
  /** Seed of hnswlib's level generator, so builds are reproducible. */
  readonly seed?: number;
  /** Scratch folder: nothing is saved, and the folder is removed on close (DATABASE_MODE=in-memory). */
  readonly ephemeral?: boolean;
  /**
   * Read only: creates and writes nothing (no folder, rows opened read-only, a stale or missing
   * graph rebuilt in memory and not saved); upsert and delete are refused with ReadOnlyDatabaseError.
   */
  readonly readOnly?: boolean;
}

/** How the index came up on open (for the app's status line and the tests). */
export interface HnswOpenReport {
  /** 'loaded' from disk, 'rebuilt' from the rows, or 'empty'. */
  readonly source: 'loaded' | 'rebuilt' | 'empty';
  /** Why it was rebuilt ('missing', 'stale: …', 'corrupt: …'), or null. */
  readonly reason: string | null;
  readonly load_ms: number;
}

const INITIAL_CAPACITY = 1024;
const REBUILD_BATCH = 2048;

export class HnswPersonaMemory implements PersonaMemoryStore {
  readonly kind: string = 'hnsw';
  readonly capabilities: { readonly exact: boolean; readonly durable: boolean };
  private index: Hnsw | null = null;
  private dims = 0;
  private modelId: string | null = null;
  /** label → persona code * 4 + category index, for rows that are in the graph or zero vectors. */
  private readonly meta = new Map<number, number>();
  /** Labels of rows whose vector is all zeros: no direction, so kept out of the graph; they score 0. */
  private readonly zeroLabels = new Set<number>();
  private readonly personaCodes = new Map<string, number>();
  private readonly counts = new Map<number, [number, number, number]>();
  private dirty = false;
  /** The rows generation this graph reflects; another writer moving it means the graph is not the rows' any more. */
  private seen = 0;
  private foreign = false;
  private closed = false;
  report: HnswOpenReport = { source: 'empty', reason: null, load_ms: 0 };

  private constructor(
    private readonly rows: MemoryRowStore,
    private readonly opts: HnswPersonaMemoryOptions,
  ) {
    this.capabilities = Object.freeze({ exact: false, durable: !opts.ephemeral });
  }

  /** Opens the folder: loads the saved graph if it is sound and current, else rebuilds it from the rows. */
  static async open(opts: HnswPersonaMemoryOptions): Promise<HnswPersonaMemory> {
    if (!opts.readOnly) mkdirSync(opts.dir, { recursive: true });
    const rows = MemoryRowStore.open(join(opts.dir, 'rows.sqlite'), { readOnly: opts.readOnly ?? false });
    const m = new HnswPersonaMemory(rows, opts);
    try {
      await m.start();
    } catch (e) {
      rows.close();
      throw e;
    }
    return m;
  }

  private get indexPath(): string {
    return join(this.opts.dir, 'index.hnsw');
  }
  private get sidecarPath(): string {
    return join(this.opts.dir, 'index.json');
  }

  private expectation(): IndexExpectation | null {
    const model = this.rows.model();
    if (!model) return null;
    return { generation: this.rows.generation(), model_id: model.model_id, dimensions: model.dimensions, M: this.opts.M, ef_construction: this.opts.ef_construction };
  }

  private async start(): Promise<void> {
    const t0 = performance.now();
    this.seen = this.rows.generation();
    const want = this.expectation();
    for (const r of this.rows.labels()) this.track(r.label, r.persona_id, r.category);
    if (!want) {
      this.report = { source: 'empty', reason: null, load_ms: performance.now() - t0 };
      return;
    }
    this.dims = want.dimensions;
    this.modelId = want.model_id;
    const checked = checkIndexFile(this.indexPath, this.sidecarPath, want);
    let reason: string | null = 'reason' in checked ? checked.reason : null;
    if ('sidecar' in checked) {
      for (const l of checked.sidecar.zero_labels) this.zeroLabels.add(l);
      const index = new HierarchicalNSW('cosine', want.dimensions);
      try {
        await index.readIndex(this.indexPath, true);
        index.setEf(this.opts.ef);
        this.index = index;
        reason = this.verifyLoaded();
      } catch (e) {
        reason = `corrupt: hnswlib could not read it (${(e as Error).message})`;
      }
    }
    if (reason === null) {
      this.report = { source: 'loaded', reason: null, load_ms: performance.now() - t0 };
      return;
    }
    this.rebuild(reason);
    if (!this.opts.readOnly) this.save();
    this.report = { source: 'rebuilt', reason, load_ms: performance.now() - t0 };
  }

  /** The loaded graph must hold every row's label (zero vectors aside; deleted labels linger, marked). */
  private verifyLoaded(): string | null {
    const ids = new Set((this.index as Hnsw).getIdsList());
    for (const l of this.meta.keys()) {
      if (!this.zeroLabels.has(l) && !ids.has(l)) return `stale: it lacks label ${l}, which is in the rows`;
    }
    return null;
  }

  /** Rebuilds the graph from the rows, reporting progress. */
  private rebuild(reason: string): void {
    const total = this.rows.count();
    const what = `rebuilding persona-memory index (${reason.split(':')[0]})`;
    this.opts.onProgress?.(what, 0, total);
    this.zeroLabels.clear();
    this.newIndex(Math.max(INITIAL_CAPACITY, Math.ceil(total * 1.25)));
    let done = 0;
    for (const batch of this.rows.scan(REBUILD_BATCH)) {
      for (const r of batch) this.addToGraph(r.label, r.record.vector, false);
      done += batch.length;
      this.opts.onProgress?.(what, done, total);
    }
  }

  private newIndex(capacity: number): void {
    const index = new HierarchicalNSW('cosine', this.dims);
    index.initIndex({ maxElements: capacity, m: this.opts.M, efConstruction: this.opts.ef_construction, randomSeed: this.opts.seed ?? 100, allowReplaceDeleted: true });
    index.setEf(this.opts.ef);
    this.index = index;
  }

  private addToGraph(label: number, vector: Float32Array, existing: boolean): void {
    const idx = this.index as Hnsw;
    if (dot(vector, vector) === 0) {
      if (existing && !this.zeroLabels.has(label)) idx.markDelete(label);
      this.zeroLabels.add(label);
      return;
    }
    const wasZero = this.zeroLabels.delete(label);
    if (idx.getCurrentCount() >= idx.getMaxElements()) idx.resizeIndex(Math.max(INITIAL_CAPACITY, idx.getMaxElements() * 2));
    // an update keeps its slot; a new label may take the slot of a deleted one
    idx.addPoint(Array.from(vector), label, !(existing && !wasZero));
  }

  private track(label: number, persona: string, category: MemoryCategory): void {
    let code = this.personaCodes.get(persona);
    if (code === undefined) {
      code = this.personaCodes.size;
      this.personaCodes.set(persona, code);
    }
    const cat = MEMORY_CATEGORIES.indexOf(category);
    const prev = this.meta.get(label);
    if (prev !== undefined) this.countOf(prev >> 2)[prev & 3]! -= 1;
    this.meta.set(label, (code << 2) | cat);
    this.countOf(code)[cat]! += 1;
  }

  private untrack(label: number): void {
    const prev = this.meta.get(label);
    if (prev === undefined) return;
    this.countOf(prev >> 2)[prev & 3]! -= 1;
    this.meta.delete(label);
  }

  private countOf(code: number): [number, number, number] {
    let c = this.counts.get(code);
    if (!c) this.counts.set(code, (c = [0, 0, 0]));
    return c;
  }

  async upsert(records: readonly MemoryRecord[]): Promise<void> {
    if (this.opts.readOnly) throw new ReadOnlyDatabaseError(this.opts.dir, 'storing memories');
    if (records.length === 0) return;
    const first = records[0] as MemoryRecord;
    if (this.meta.size === 0 && (this.index === null || this.dims !== first.vector.length)) {
      this.dims = first.vector.length;
      this.newIndex(INITIAL_CAPACITY);
    }
    this.noteForeignWrites();
    const labels = this.rows.upsert(records);
    this.seen = this.rows.generation();
    this.modelId = first.model_id;
    this.dirty = true;
    records.forEach((r, i) => {
      const label = labels[i] as number;
      const existing = this.meta.has(label);
      this.track(label, r.persona_id, r.category);
      this.addToGraph(label, r.vector, existing);
    });
  }

  async search(q: MemoryQuery): Promise<MemoryHit[]> {
    if (this.index === null || this.meta.size === 0) return [];
    const matching = this.matching(q);
    if (matching === 0) return [];
    const want = Math.min(q.k, matching);
    const filtered = q.persona_id !== undefined || q.categories !== undefined;
    if (filtered && matching <= (this.opts.exact_scan_max ?? 256)) return this.exactScan(q);
    const inGraph = this.meta.size - this.zeroLabels.size;
    // widen k by the filter's selectivity (and a margin for exact re-scoring), within the graph's size
    const selectivity = matching / this.meta.size;
    const k = Math.min(inGraph, Math.ceil((q.k + 10) / Math.max(selectivity, 0.01)), 10_000);
    let labels: number[] = [];
    if (k > 0) labels = filtered ? this.filteredCandidates(q, k, want) : this.graphSearch(q.vector, k).slice(0, q.k + 10);
    const zeros = [...this.zeroLabels].filter((l) => this.passes(l, q));
    if (labels.length + zeros.length < want) return this.exactScan(q);
    return this.rank(this.rows.byLabels([...labels, ...zeros]), q);
  }

  /** The graph's closest labels (closest first). */
  private graphSearch(vector: Float32Array, k: number, filter?: (label: number) => boolean): number[] {
    const idx = this.index as Hnsw;
    idx.setEf(Math.max(this.opts.ef, k));
    return idx.searchKnn(Array.from(vector), k, filter).neighbors;
  }

  /**
   * Candidates for a filtered search. First an unfiltered search k' = k / selectivity deep,
   * filtered afterwards: cheap (no call back into JS per visited node), and exact whenever it
   * yields at least k passing hits, since those then include every passing memory ranked
   * above them. Else (or for very selective filters) hnswlib's filtered search.
   */
  private filteredCandidates(q: MemoryQuery, k: number, want: number): number[] {
    const passes = this.labelFilter(q);
    if (k <= 1000) {
      const post = this.graphSearch(q.vector, k).filter(passes);
      if (post.length >= want) return post.slice(0, q.k + 10);
    }
    return this.graphSearch(q.vector, k, passes).slice(0, q.k + 10);
  }

  /** Exact answer over the rows that pass the filter: score label + vector only, then fetch the winners. */
  private exactScan(q: MemoryQuery): MemoryHit[] {
    const qn = Math.sqrt(dot(q.vector, q.vector)) || 1;
    const scored: { label: number; score: number }[] = [];
    for (const { label, vector } of this.rows.scanVectors(q)) {
      const n = Math.sqrt(dot(vector, vector));
      scored.push({ label, score: n === 0 ? 0 : dot(q.vector, vector) / (qn * n) });
    }
    scored.sort((a, b) => b.score - a.score);
    // ties at the cut are settled by id in rank(), so fetch everything tied with the k-th
    const cut = scored[Math.min(q.k, scored.length) - 1]?.score ?? -Infinity;
    const winners = scored.filter((s, i) => i < q.k || s.score === cut).map((s) => s.label);
    return this.rank(this.rows.byLabels(winners), q);
  }

  private rank(candidates: StoredRow[], q: MemoryQuery): MemoryHit[] {
    return this.score(candidates, q).sort(compareHits).slice(0, q.k);
  }

  private score(rows: StoredRow[], q: MemoryQuery): MemoryHit[] {
    const qn = Math.sqrt(dot(q.vector, q.vector)) || 1;
    const out: MemoryHit[] = [];
    for (const { record } of rows) {
      if (!matchesMemoryFilter(record, q)) continue;
      const n = Math.sqrt(dot(record.vector, record.vector));
      out.push({ memory: stripVector(record), score: n === 0 ? 0 : dot(q.vector, record.vector) / (qn * n) });
    }
    return out;
  }

  private labelFilter(f: MemoryFilter): (label: number) => boolean {
    const code = f.persona_id === undefined ? -1 : (this.personaCodes.get(f.persona_id) ?? -2);
    const mask = f.categories === undefined ? 0b111 : f.categories.reduce((m, c) => m | (1 << MEMORY_CATEGORIES.indexOf(c)), 0);
    const meta = this.meta;
    return (label: number) => {
      const m = meta.get(label);
      return m !== undefined && (code < 0 || m >> 2 === code) && (mask & (1 << (m & 3))) !== 0;
    };
  }

  private passes(label: number, f: MemoryFilter): boolean {
    return this.labelFilter(f)(label);
  }

  /** How many memories pass the filter (from the in-memory counts). */
  private matching(f: MemoryFilter): number {
    const cats = f.categories === undefined ? [0, 1, 2] : f.categories.map((c) => MEMORY_CATEGORIES.indexOf(c));
    const codes = f.persona_id === undefined ? [...this.counts.keys()] : [this.personaCodes.get(f.persona_id)].filter((c) => c !== undefined);
    let n = 0;
    for (const code of codes) {
      const c = this.counts.get(code as number);
      if (c) for (const i of new Set(cats)) n += c[i] as number;
    }
    return n;
  }

  async get(id: string): Promise<PersonaMemory | null> {
    return this.rows.get(id);
  }

  async list(filter: MemoryFilter = {}, limit = Infinity, offset = 0): Promise<PersonaMemory[]> {
    return this.rows.list(filter, limit, offset);
  }

  /** Every memory with its vector, from the rows (the graph is only an index of them), in label order. */
  async scan(cursor: string | null, limit: number): Promise<MemoryScanPage> {
    const after = cursor === null ? -1 : Number(cursor);
    if (!Number.isInteger(after) || after < -1) throw new ValidationError(`invalid scan cursor "${cursor}": pass a next_cursor scan returned`);
    const n = Math.max(1, limit);
    const page = this.rows.page(after, n + 1);
    const rows = page.slice(0, n);
    return { records: rows.map((r) => r.record), next_cursor: page.length > n ? String(rows.at(-1)!.label) : null };
  }

  async delete(ids: readonly string[]): Promise<number> {
    if (this.opts.readOnly) throw new ReadOnlyDatabaseError(this.opts.dir, 'deleting memories');
    this.noteForeignWrites();
    const labels = this.rows.delete([...new Set(ids)]);
    this.seen = this.rows.generation();
    for (const l of labels) {
      if (this.zeroLabels.has(l)) this.zeroLabels.delete(l);
      else this.index?.markDelete(l);
      this.untrack(l);
    }
    if (labels.length) this.dirty = true;
    if (this.meta.size === 0) this.modelId = null;
    return labels.length;
  }

  async count(filter: MemoryFilter = {}): Promise<number> {
    return this.matching(filter);
  }

  async model(): Promise<{ model_id: string; dimensions: number } | null> {
    return this.meta.size === 0 || this.modelId === null ? null : { model_id: this.modelId, dimensions: this.dims };
  }

  /** Writes the graph and its sidecar if anything changed since the last save. */
  async flush(): Promise<void> {
    if (this.dirty && !this.opts.readOnly) this.save();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.dirty && !this.opts.ephemeral && !this.opts.readOnly) this.save();
    } finally {
      this.rows.close();
      this.index = null;
      if (this.opts.ephemeral) rmSync(this.opts.dir, { recursive: true, force: true });
    }
  }

  /** Bytes of the saved index file (0 before the first save). */
  indexBytes(): number {
    try {
      return statSync(this.indexPath).size;
    } catch {
      return 0;
    }
  }

  private noteForeignWrites(): void {
    if (this.rows.generation() !== this.seen) this.foreign = true;
  }

  private save(): void {
    this.noteForeignWrites();
    if (this.foreign) {
      // another process changed the rows while this graph was open: saving it would vouch for
      // rows it has not seen, so leave no index and let the next open rebuild from the rows
      rmSync(this.sidecarPath, { force: true });
      rmSync(this.indexPath, { force: true });
      this.dirty = false;
      return;
    }
    const want = this.expectation();
    if (!want || !this.index) {
      rmSync(this.indexPath, { force: true });
      rmSync(this.sidecarPath, { force: true });
      this.dirty = false;
      return;
    }
    // the old sidecar goes first: a crash between the two writes leaves "stale", never a mismatched pair
    rmSync(this.sidecarPath, { force: true });
    const tmp = `${this.indexPath}.tmp`;
    this.index.writeIndexSync(tmp);
    renameSync(tmp, this.indexPath);
    writeSidecar(this.sidecarPath, this.indexPath, { ...want, elements: this.index.getCurrentCount(), zero_labels: [...this.zeroLabels] });
    this.dirty = false;
  }
}
