/**
 * Persona memory: exact (brute force) and HNSW measured in the same run on 384-dimensional
 * clustered vectors (topics → sub-topics → noisy members, pairwise cosine within a cluster
 * ≈ 0.6, like sentence embeddings; not uniform noise), at 10k and 100k memories: recall@10
 * of HNSW against exact, queries per second, p50/p99 latency, build time, index size on disk,
 * load time and memory. Both go through the persona-memory port, as the app uses them (HNSW
 * with its SQLite rows file). Also embedding throughput for the hashing embedder and the
 * transformers.js path (tiny generated model; MiniLM when its files are in the model folder).
 * The Inspector's memory search (the SQLite reader's exact scan of the rows file) is timed on
 * the same rows and checked against the exact adapter.
 *
 * The HNSW parameters are the config defaults unless BENCH_HNSW_M / _EF_CONSTRUCTION / _EF say
 * otherwise. Target at 100k: recall@10 ≥ 0.98 at ≥ 50× the exact search's QPS.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MemoryCategory } from '../../src/domain/schemas.ts';
import type { Embedder } from '../../src/ports/embedder.ts';
import type { MemoryHit, MemoryQuery, MemoryRecord, PersonaMemoryStore } from '../../src/ports/persona-memory.ts';
import { parseConfig } from '../../src/config/config.ts';
import { ExactPersonaMemory } from '../../src/adapters/exact/exact-persona-memory.ts';
import { HnswPersonaMemory } from '../../src/adapters/hnsw/hnsw-persona-memory.ts';
import { sqliteReaders } from '../../src/adapters/sqlite/sqlite-readers.ts';
import type { PersonaMemoryReader } from '../../src/ports/readers.ts';
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';
import { TransformersEmbedder } from '../../src/adapters/transformers/transformers-embedder.ts';
import { normalize } from '../../src/domain/vectors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { TINY_MODEL_ID, writeTinyModel } from '../support/tiny-model.ts';
import { percentile, round, type BenchSuite } from '../suite.ts';

const DIM = 384;
const K = 10;
const CATS: MemoryCategory[] = ['Episodic', 'Semantic', 'SOUL'];
const PERSONAS = 8;

/** Seeded clustered vectors: 24 topics, 16 sub-topics each, members scattered around them. */
class ClusteredVectors {
  private readonly rng = new SeededRng(2026, 'bench-memory');
  private readonly centers: Float32Array[] = [];
  constructor() {
    const topics = Array.from({ length: 24 }, () => Float32Array.from({ length: DIM }, () => this.rng.normal(0, 1)));
    for (const t of topics) for (let s = 0; s < 16; s++) this.centers.push(Float32Array.from(t, (x) => x + this.rng.normal(0, 0.7)));
  }
  next(): Float32Array {
    const c = this.centers[this.rng.int(this.centers.length)] as Float32Array;
    return normalize(Float32Array.from(c, (x) => x + this.rng.normal(0, 0.95)));
  }
}

function record(i: number, vector: Float32Array): MemoryRecord {
  return {
    id: `m${String(i).padStart(7, '0')}`,
    persona_id: `p${i % PERSONAS}`,
    content: `memory ${i}`,
    category: CATS[i % 3] as MemoryCategory,
    timestamp: '2026-01-01T00:00:00.000Z',
    vector,
    model_id: 'bench-clustered-384',
  };
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

function dirBytes(dir: string, names: string[]): number {
  return names.reduce((s, n) => s + (existsSync(join(dir, n)) ? statSync(join(dir, n)).size : 0), 0);
}

async function timeQueries(m: PersonaMemoryStore, queries: MemoryQuery[]): Promise<{ hits: MemoryHit[][]; qps: number; p50_ms: number; p99_ms: number }> {
  const lat: number[] = [];
  const hits: MemoryHit[][] = [];
  for (const q of queries.slice(0, 5)) await m.search(q); // warm-up
  const t0 = performance.now();
  for (const q of queries) {
    const t = performance.now();
    hits.push(await m.search(q));
    lat.push(performance.now() - t);
  }
  const total_s = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { hits, qps: round(queries.length / total_s, 1), p50_ms: round(percentile(lat, 50), 3), p99_ms: round(percentile(lat, 99), 3) };
}

/**
 * The Inspector's memory search on a SQLite profile: the read-only reader's exact scan of the
 * rows file (no index loaded), beside the exact adapter's in-memory scan measured above. Its
 * top 10 must be the exact adapter's (recall 1) and its distances 1 − the exact scores.
 */
async function inspectorScan(rowsFile: string, queries: MemoryQuery[], exact: MemoryHit[][]): Promise<Record<string, number>> {
  const readers = sqliteReaders({ memoryRows: rowsFile });
  try {
    const reader = readers.memory as PersonaMemoryReader;
    const lat: number[] = [];
    const hits: MemoryHit[][] = [];
    let worstGap = 0;
    for (const [i, q] of queries.entries()) {
      const t = performance.now();
      const r = await reader.search({ vector: q.vector, model_id: 'bench-clustered-384', k: K });
      lat.push(performance.now() - t);
      hits.push(r.items.map((n) => ({ memory: (n.row as { value: MemoryHit['memory'] }).value, score: 1 - n.distance })));
      (exact[i] ?? []).forEach((h, j) => (worstGap = Math.max(worstGap, Math.abs(1 - h.score - (r.items[j]?.distance ?? NaN)))));
    }
    lat.sort((a, b) => a - b);
    return { p50_ms: round(percentile(lat, 50), 1), p99_ms: round(percentile(lat, 99), 1), recall_at_10_vs_exact: recallAt(hits, exact), max_distance_gap_vs_exact: worstGap };
  } finally {
    await readers.close();
  }
}

function recallAt(approx: MemoryHit[][], exact: MemoryHit[][]): number {
  let found = 0;
  let total = 0;
  exact.forEach((want, i) => {
    const got = new Set((approx[i] ?? []).map((h) => h.memory.id));
    found += want.filter((h) => got.has(h.memory.id)).length;
    total += want.length;
  });
  return round(found / Math.max(1, total), 4);
}

async function measureSize(n: number, nQueries: number, log: (l: string) => void): Promise<Record<string, unknown>> {
  const defaults = parseConfig({}).memory.hnsw;
  const params = {
    M: Number(process.env.BENCH_HNSW_M ?? defaults.M),
    ef_construction: Number(process.env.BENCH_HNSW_EF_CONSTRUCTION ?? defaults.ef_construction),
    ef: Number(process.env.BENCH_HNSW_EF ?? defaults.ef),
  };
  const gen = new ClusteredVectors();
  const t0 = performance.now();
  const recs = Array.from({ length: n }, (_, i) => record(i, gen.next()));
  const queries: MemoryQuery[] = Array.from({ length: nQueries }, () => ({ vector: gen.next(), k: K }));
  const filtered: MemoryQuery[] = queries.slice(0, Math.min(100, nQueries)).map((q, i) => ({ ...q, persona_id: `p${i % PERSONAS}` }));
  log(`  ${n}: generated ${n} vectors in ${Math.round(performance.now() - t0)} ms`);
  const BATCH = 1000;

  // exact
  const rss0 = rssMiB();
  const exact = new ExactPersonaMemory();
  let t = performance.now();
  for (let i = 0; i < n; i += BATCH) await exact.upsert(recs.slice(i, i + BATCH));
  const exactBuild = performance.now() - t;
  const exactQ = await timeQueries(exact, queries);
  const exactF = await timeQueries(exact, filtered);
  const exactFig = {
    build_ms: round(exactBuild, 1),
    qps: exactQ.qps,
    p50_ms: exactQ.p50_ms,
    p99_ms: exactQ.p99_ms,
    filtered_persona_qps: exactF.qps,
    memory_mib: round(exact.memoryBytes() / 2 ** 20, 1),
    rss_growth_mib: round(rssMiB() - rss0, 1),
  };
  log(`  ${n}: exact ${JSON.stringify(exactFig)}`);

  // HNSW, through its SQLite rows file
  const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-hnsw-'));
  try {
    const rss1 = rssMiB();
    let lastLog = 0;
    t = performance.now();
    const h = await HnswPersonaMemory.open({ dir, ...params, seed: 100 });
    for (let i = 0; i < n; i += BATCH) {
      await h.upsert(recs.slice(i, i + BATCH));
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`  ${n}: hnsw built ${i + BATCH}/${n}`);
      }
    }
    const build = performance.now() - t;
    const rssBuilt = rssMiB() - rss1;
    t = performance.now();
    await h.flush();
    const save = performance.now() - t;
    const hnswQ = await timeQueries(h, queries);
    const hnswF = await timeQueries(h, filtered);
    await h.close();
    t = performance.now();
    const again = await HnswPersonaMemory.open({ dir, ...params });
    const load = performance.now() - t;
    const source = again.report.source;
    const againQ = await timeQueries(again, queries.slice(0, 50));
    await again.close();
    const inspector = await inspectorScan(join(dir, 'rows.sqlite'), queries.slice(0, 20), exactQ.hits.slice(0, 20));
    log(`  ${n}: inspector rows scan ${JSON.stringify(inspector)}`);
    const hnswFig = {
      params,
      build_ms: round(build, 1),
      save_ms: round(save, 1),
      load_ms: round(load, 1),
      load_source: source,
      recall_at_10: recallAt(hnswQ.hits, exactQ.hits),
      recall_at_10_after_reload: recallAt(againQ.hits, exactQ.hits.slice(0, 50)),
      qps: hnswQ.qps,
      p50_ms: hnswQ.p50_ms,
      p99_ms: hnswQ.p99_ms,
      filtered_persona_recall_at_10: recallAt(hnswF.hits, exactF.hits),
      filtered_persona_qps: hnswF.qps,
      index_file_mib: round(dirBytes(dir, ['index.hnsw']) / 2 ** 20, 1),
      rows_file_mib: round(dirBytes(dir, ['rows.sqlite', 'rows.sqlite-wal']) / 2 ** 20, 1),
      rss_growth_mib: round(rssBuilt, 1),
    };
    log(`  ${n}: hnsw ${JSON.stringify(hnswFig)}`);
    return {
      memories: n,
      queries: nQueries,
      dimensions: DIM,
      k: K,
      exact: exactFig,
      hnsw: hnswFig,
      qps_ratio_hnsw_over_exact: round(hnswQ.qps / exactQ.qps, 1),
      inspector_rows_scan: inspector,
    };
  } finally {
    await exact.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const WORDS = 'running shoes recycled plastic city trail coffee beans morning lemon cake recipe tax filing travel beach surf music concert brand launch audience campaign voice style persona memory post'.split(' ');

function sentences(n: number): string[] {
  const rng = new SeededRng(7, 'bench-sentences');
  return Array.from({ length: n }, () => Array.from({ length: 6 + rng.int(10) }, () => WORDS[rng.int(WORDS.length)]).join(' '));
}

async function throughput(e: Embedder, texts: string[], batch: number): Promise<number> {
  await e.embed(texts.slice(0, batch)); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += batch) await e.embed(texts.slice(i, i + batch));
  return round(texts.length / ((performance.now() - t0) / 1000), 1);
}

async function embedders(quick: boolean, log: (l: string) => void): Promise<Record<string, unknown>> {
  const texts = sentences(quick ? 300 : 3000);
  const out: Record<string, unknown> = { sentences: texts.length };
  const hashing = new HashingEmbedder(256);
  out.hashing_256_sentences_per_s = await throughput(hashing, texts, 64);
  const dir = mkdtempSync(join(tmpdir(), 'chimera-bench-model-'));
  try {
    writeTinyModel(dir, { quantized: false });
    const tiny = await TransformersEmbedder.open({ model: TINY_MODEL_ID, model_dir: dir, batch_size: 32 });
    out.transformers_tiny_sentences_per_s = await throughput(tiny, texts, 32);
    await tiny.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const modelDir = resolve(process.env.CHIMERA_MODEL_DIR ?? join(parseConfig({}).data_dir, 'models'));
  try {
    const mini = await TransformersEmbedder.open({ model: 'Xenova/all-MiniLM-L6-v2', model_dir: modelDir, batch_size: 32 });
    out.transformers_minilm_sentences_per_s = await throughput(mini, texts.slice(0, quick ? 100 : 1000), 32);
    await mini.close();
  } catch (e) {
    out.transformers_minilm_sentences_per_s = null;
    out.transformers_minilm_note = `not measured: ${(e as Error).message.split('. ')[0]}`;
  }
  log(`  embedders ${JSON.stringify(out)}`);
  return out;
}

export const memorySuite: BenchSuite = {
  name: 'memory',
  description: 'persona memory: exact vs HNSW (384-d clustered, 10k/100k) and embedding throughput',
  async run({ quick, log }) {
    const sizes = quick ? [2_000, 5_000] : [10_000, 100_000];
    const results: Record<string, unknown> = {};
    for (const n of sizes) results[`n_${n}`] = await measureSize(n, quick ? 50 : 200, log);
    const last = results[`n_${sizes[sizes.length - 1]}`] as { hnsw: { recall_at_10: number }; qps_ratio_hnsw_over_exact: number };
    return {
      ...results,
      target_at_100k: { recall_at_10: 0.98, qps_ratio: 50 },
      target_met: !quick && last.hnsw.recall_at_10 >= 0.98 && last.qps_ratio_hnsw_over_exact >= 50,
      embedders: await embedders(quick, log),
    };
  },
};
