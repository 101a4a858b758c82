/**
 * Persona memory in Weaviate, the seed's `PersonaMemory` class, through weaviate-client v3:
 * REST for the schema, gRPC for batch writes, searches, fetches, deletes and aggregates.
 *
 * - Vectors are ours (the class has `vectorizer: none`); each object also carries `memory_id`
 *   (our id; the object id is its uuidv5, see weaviate-schema.ts) and `model_id`. Before every
 *   write the class is asked for any object of another model, so two embedding models are never
 *   mixed whichever process wrote; a vector of another length is refused by Weaviate itself and
 *   reported as ModelMismatchError too.
 * - Search asks Weaviate for an oversampled candidate list (nearVector, filtered by persona and
 *   category, with the stored vectors) and re-scores the candidates here with the same cosine
 *   the exact adapter computes, so scores and tie order agree with it to the last bit.
 * - list() walks the class with the cursor (`after`, by object id), never deep offsets, and
 *   sorts by (timestamp, id) here: Weaviate's cursor cannot be combined with a filter or a sort.
 * - Reads and id-keyed upserts are retried on transient failures (bounded); deletes are not,
 *   since a repeat would misreport how many memories existed.
 */
import weaviate, { ApiKey, Filters, type Collection, type FilterValue, type WeaviateClient } from 'weaviate-client';
import { BadDatabaseError, ConfigError, ModelMismatchError, ReadOnlyError } from '../../domain/errors.ts';
import { MEMORY_CATEGORIES, type MemoryCategory, type PersonaMemory } from '../../domain/schemas.ts';
import { dot } from '../../domain/vectors.ts';
import type { MemoryFilter, MemoryHit, MemoryQuery, MemoryRecord, MemoryScanPage, PersonaMemoryStore } from '../../ports/persona-memory.ts';
import { byTimestampThenId, matchesMemoryFilter, TopK } from '../shared/memory-helpers.ts';
import { call, DEFAULT_RETRY, redactUrl, type CallSite, type RetryPolicy } from './weaviate-calls.ts';
import { ADDED_PROPERTIES, checkClassName, classDefinition, memoryUuid, PERSONA_MEMORY_CLASS, propertyConfig } from './weaviate-schema.ts';

export interface WeaviateMemoryOptions {
  /** REST endpoint, e.g. http://localhost:8080 or https://weaviate.example.com (https = TLS for REST and gRPC). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <key>` on REST and gRPC. */
  readonly apiKey?: string;
  /** The class (default `PersonaMemory`, the seed's). */
  readonly className?: string;
  /** gRPC host (default: the URL's host). */
  readonly grpcHost?: string;
  /** gRPC port (default 50051; 443 for https URLs without a port). */
  readonly grpcPort?: number;
  /** Per request, every attempt (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Bounded retries of what is safe to repeat. */
  readonly retry?: Partial<RetryPolicy>;
  /** Candidates asked of Weaviate per search: max(k × oversample, k + 32), at most 10 000 (default 2). */
  readonly oversample?: number;
  /** Objects per BatchObjects request (default 500). */
  readonly batchSize?: number;
  /** BatchObjects requests in flight at once during one upsert (default 4). */
  readonly batchConcurrency?: number;
  /** Objects per cursor page in list() (default 500). */
  readonly pageSize?: number;
  /** Extra headers (e.g. for a proxy); never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Reads only: upsert and delete (of any memory) are refused with a ReadOnlyError before anything
   * is sent, and the class is neither created nor given our properties (an absent class reads as empty).
   */
  readonly readOnly?: boolean;
}

/** Opens (and, when absent and not read-only, creates) the class and returns the store. */
export async function openWeaviateMemory(opts: WeaviateMemoryOptions): Promise<PersonaMemoryStore & { readonly className: string }> {
  return WeaviatePersonaMemory.open(opts);
}

const RETURNED = ['memory_id', 'persona_id', 'content', 'category', 'timestamp'] as const;
const MAX_CANDIDATES = 10_000;
/** Weaviate's default QUERY_MAXIMUM_RESULTS bounds a batch delete's matches. */
const DELETE_CHUNK = 10_000;

/** The class's properties as weaviate-client types them (a date comes back as a Date). */
type Props = { memory_id: string; persona_id: string; content: string; category: string; timestamp: Date | string; model_id: string };
/** What this adapter reads of a returned object (checked, since another program may have written it). */
export interface ReturnedObject {
  readonly uuid: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly vectors?: unknown;
}
type Obj = ReturnedObject;
const objects = (res: { objects: readonly unknown[] }): Obj[] => res.objects as Obj[];

interface Endpoints {
  readonly rest: string;
  readonly grpc: string;
}

/** A connected client with its endpoints (for messages), retry policy and timeout: the adapter's and the readers' one way to connect. */
export async function connectWeaviate(opts: {
  readonly url: string;
  readonly grpcPort?: number | undefined;
  readonly grpcHost?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly retry?: Partial<RetryPolicy> | undefined;
  readonly apiKey?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}): Promise<{ client: WeaviateClient; endpoints: Endpoints; policy: RetryPolicy; timeoutMs: number }> {
  const { url, grpcHost, grpcPort, secure } = parseEndpoint(opts);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (!(timeoutMs > 0)) throw new ConfigError(`invalid Weaviate timeoutMs ${timeoutMs}: must be > 0`);
  const policy: RetryPolicy = Object.freeze({ ...DEFAULT_RETRY, ...opts.retry });
  const rest = `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, '')}`;
  const endpoints: Endpoints = { rest, grpc: `${secure ? 'grpcs' : 'grpc'}://${grpcHost}:${grpcPort}` };
  const seconds = timeoutMs / 1000;
  const client = await call({ op: 'connect', endpoint: `${rest}/v1/meta and ${endpoints.grpc} (health)`, safe: true }, policy, timeoutMs, () =>
    weaviate.connectToCustom({
      httpHost: url.hostname,
      httpPort: url.port ? Number(url.port) : secure ? 443 : 80,
      httpPath: url.pathname.replace(/\/$/, ''),
      httpSecure: secure,
      grpcHost,
      grpcPort,
      grpcSecure: secure,
      authCredentials: opts.apiKey ? new ApiKey(opts.apiKey) : undefined,
      headers: opts.headers ? { ...opts.headers } : undefined,
      timeout: { init: seconds, query: seconds, insert: seconds },
    }),
  );
  return { client, endpoints, policy, timeoutMs };
}

/** A Weaviate URL checked (http or https), with its gRPC host and port (443 behind https without a port, else 50051); the readers use it too. */
export function parseEndpoint(opts: { readonly url: string; readonly grpcPort?: number | undefined; readonly grpcHost?: string | undefined }): { url: URL; grpcHost: string; grpcPort: number; secure: boolean } {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new ConfigError(`invalid Weaviate url "${redactUrl(opts.url)}": expected http(s)://host[:port][/path]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`invalid Weaviate url "${redactUrl(opts.url)}": the scheme must be http or https`);
  const secure = url.protocol === 'https:';
  const grpcPort = opts.grpcPort ?? (secure && !url.port ? 443 : 50051);
  if (!Number.isInteger(grpcPort) || grpcPort < 1 || grpcPort > 65535) throw new ConfigError(`invalid Weaviate gRPC port ${grpcPort}`);
  return { url, grpcHost: opts.grpcHost ?? url.hostname, grpcPort, secure };
}

export class WeaviatePersonaMemory implements PersonaMemoryStore {
  readonly kind: string = 'weaviate';
  /** HNSW inside Weaviate proposes the candidates: approximate at scale (the emulator is exact). */
  readonly capabilities = Object.freeze({ exact: false, durable: true });
  private readonly collection: Collection<Props, string>;
  private closed = false;
  /** A read-only open found no class (it creates none): every read is empty. */
  private absent = false;

  private constructor(
    private readonly client: WeaviateClient,
    readonly className: string,
    private readonly endpoints: Endpoints,
    private readonly policy: RetryPolicy,
    private readonly timeoutMs: number,
    private readonly opts: WeaviateMemoryOptions,
  ) {
    this.collection = client.collections.use<string, Props>(className);
  }

  static async open(opts: WeaviateMemoryOptions): Promise<WeaviatePersonaMemory> {
    const className = checkClassName(opts.className ?? PERSONA_MEMORY_CLASS);
    const { client, endpoints, policy, timeoutMs } = await connectWeaviate(opts);
    const m = new WeaviatePersonaMemory(client, className, endpoints, policy, timeoutMs, opts);
    try {
      await m.ensureClass();
    } catch (e) {
      await client.close();
      throw e;
    }
    return m;
  }

  private rest(path: string, op: string, safe = true): CallSite {
    return { op, endpoint: `${this.endpoints.rest}/v1${path}`, safe };
  }
  private grpc(method: string, op: string, safe = true): CallSite {
    return { op: `${op} (class ${this.className})`, endpoint: `${this.endpoints.grpc} weaviate.v1.Weaviate/${method}`, safe };
  }
  private run<T>(site: CallSite, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ConfigError(`the Weaviate memory (class ${this.className}) is closed`));
    return call(site, this.policy, this.timeoutMs, fn);
  }

  /** Creates the class when absent; adds memory_id/model_id to a class the seed's services made without them. */
  private async ensureClass(): Promise<void> {
    const path = `/schema/${this.className}`;
    const existing = await this.run(this.rest(path, 'read class'), async () => {
      try {
        return await this.client.collections.export(this.className);
      } catch (e) {
        if ((e as { code?: unknown }).code === 404) return null;
        throw e;
      }
    });
    if (this.opts.readOnly) {
      // reads only: no class is made and no property added (a read falls back where ours are missing)
      this.absent = !existing;
      return;
    }
    if (!existing) {
      // safe to repeat: a class that another process (or our lost first attempt) created is accepted below
      await this.run(this.rest('/schema', 'create class'), async () => {
        try {
          await this.client.collections.createFromSchema(classDefinition(this.className) as never);
        } catch (e) {
          const msg = String((e as Error).message);
          if ((e as { code?: unknown }).code === 422 && /already (exists|used)/i.test(msg)) return;
          throw e;
        }
      });
      return;
    }
    const have = new Set(existing.properties.map((p) => p.name));
    for (const p of ADDED_PROPERTIES) {
      if (have.has(p.name)) continue;
      await this.run(this.rest(`${path}/properties`, `add property ${p.name}`), () =>
        this.client.collections.use(this.className).config.addProperty(propertyConfig(p) as never),
      );
    }
  }

  /** Refuses a write on a read-only store, before anything is sent. */
  private writable(op: string, first: string | undefined): void {
    if (!this.opts.readOnly) return;
    throw new ReadOnlyError(
      `write refused: Weaviate ${this.endpoints.rest} (class ${this.className}) is open read-only for this profile; ${op}${first ? ` of memory ${first}` : ''} was not sent; nothing was written`,
      { endpoint: this.endpoints.rest, refused: op, ...(first ? { key: first } : {}) },
    );
  }

  async upsert(records: readonly MemoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.writable('upsert', records[0]?.id);
    const model = (records[0] as MemoryRecord).model_id;
    const other = records.find((r) => r.model_id !== model);
    if (other) throw new ModelMismatchError(`memories ${records[0]?.id} and ${other.id} were embedded with "${model}" and "${other.model_id}": one batch holds one model`);
    await this.checkModel(model);
    const size = this.opts.batchSize ?? 500;
    const chunks: MemoryRecord[][] = [];
    for (let i = 0; i < records.length; i += size) chunks.push(records.slice(i, i + size));
    // weaviate-client serializes a batch one object per timer tick and polls for the result every
    // 500 ms, so one batch at a time caps an import near 1,000 objects/s: several run at once
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) await this.writeChunk(chunks[next++] as MemoryRecord[]);
    };
    await Promise.all(Array.from({ length: Math.min(chunks.length, this.opts.batchConcurrency ?? 4) }, worker));
  }

  private async writeChunk(chunk: readonly MemoryRecord[]): Promise<void> {
    const objects = chunk.map((r) => ({
      id: memoryUuid(r.id),
      properties: { memory_id: r.id, persona_id: r.persona_id, content: r.content, category: r.category, timestamp: r.timestamp, model_id: r.model_id },
      vectors: Array.from(r.vector),
    }));
    const site = this.grpc('BatchObjects', 'upsert');
    const res = await this.run(site, () => this.collection.data.insertMany(objects));
    if (res.hasErrors) {
      const [index, err] = Object.entries(res.errors)[0] as [string, { message: string }];
      const rec = chunk[Number(index)];
      // a per-object error is Weaviate's verdict on that object, not a transport failure: reported, not retried
      await call(site, { ...this.policy, attempts: 1 }, this.timeoutMs, () =>
        Promise.reject(Object.assign(new Error(`memory ${rec?.id ?? index}: ${err.message} (${Object.keys(res.errors).length} of ${chunk.length} objects refused)`), { name: 'WeaviateBatchObjectError' })),
      );
    }
  }

  /** Refuses a write of `model` when the class holds an object of another model, whoever wrote it. */
  private async checkModel(model: string): Promise<void> {
    const res = await this.run(this.grpc('Search', 'model check'), () =>
      this.collection.query.fetchObjects({ limit: 1, filters: this.collection.filter.byProperty('model_id').notEqual(model), returnProperties: ['model_id', 'memory_id'] }),
    );
    const found = objects(res)[0];
    if (found) {
      const theirs = String(found.properties.model_id ?? '(none)');
      throw new ModelMismatchError(
        `the Weaviate class ${this.className} holds vectors of "${theirs}" (e.g. memory ${String(found.properties.memory_id ?? found.uuid)}) but these were embedded with "${model}"; re-embed the memories (chimera memory reindex) or use another class`,
        { index_model: theirs, record_model: model, class: this.className },
      );
    }
  }

  private filterOf(f: MemoryFilter): FilterValue | undefined {
    const parts: FilterValue[] = [];
    if (f.persona_id !== undefined) parts.push(this.collection.filter.byProperty('persona_id').equal(f.persona_id));
    if (f.categories !== undefined) parts.push(this.collection.filter.byProperty('category').containsAny([...f.categories]));
    return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : Filters.and(...parts);
  }

  /** The nearVector call's arguments for a query and a candidate count (exposed for the benchmark). */
  searchArgs(q: MemoryQuery, limit: number) {
    return {
      vector: Array.from(q.vector),
      opts: { limit, filters: this.filterOf(q), includeVector: true as const, returnMetadata: ['distance' as const], returnProperties: [...RETURNED] },
    };
  }

  async search(q: MemoryQuery): Promise<MemoryHit[]> {
    if ((q.categories !== undefined && q.categories.length === 0) || this.absent) return [];
    const oversample = this.opts.oversample ?? 2;
    let limit = candidateCount(q.k, oversample);
    for (;;) {
      const { vector, opts } = this.searchArgs(q, limit);
      const res = await this.run(this.grpc('Search', 'search'), () => this.collection.query.nearVector(vector, opts));
      const { hits, boundaryTied } = rescore(q, objects(res), (o) => readMemory(o, this.className));
      // Weaviate ranks in float32 and breaks ties its own way: while the last candidate it sent
      // could still tie with (or, by rounding, beat) our k-th, a memory with a smaller id may lie
      // beyond the list, so ask for more
      if (!boundaryTied || res.objects.length < limit || limit >= MAX_CANDIDATES) return hits;
      limit = Math.min(MAX_CANDIDATES, limit * 4);
    }
  }

  async get(id: string): Promise<PersonaMemory | null> {
    if (this.absent) return null;
    const uuid = memoryUuid(id);
    const o = await this.run(this.grpc('Search', 'get'), () => this.collection.query.fetchObjectById(uuid, { returnProperties: [...RETURNED] }));
    return o ? readMemory(o as unknown as Obj, this.className) : null;
  }

  async list(filter: MemoryFilter = {}, limit = Infinity, offset = 0): Promise<PersonaMemory[]> {
    const out: PersonaMemory[] = [];
    if (this.absent) return out;
    const page = this.opts.pageSize ?? 500;
    let after: string | undefined;
    for (;;) {
      const res = await this.run(this.grpc('Search', 'list'), () => this.collection.query.fetchObjects({ limit: page, after, returnProperties: [...RETURNED] }));
      const got = objects(res);
      for (const o of got) {
        const m = readMemory(o, this.className);
        if (matchesMemoryFilter(m, filter)) out.push(m);
      }
      if (got.length < page) break;
      after = (got[got.length - 1] as Obj).uuid;
    }
    out.sort(byTimestampThenId);
    return out.slice(offset, offset + limit);
  }

  /** Walks the class with the cursor (by object uuid) with the stored vectors; an object without one is refused. */
  async scan(cursor: string | null, limit: number): Promise<MemoryScanPage> {
    if (this.absent) return { records: [], next_cursor: null };
    const page = Math.max(1, limit);
    const res = await this.run(this.grpc('Search', 'scan'), () =>
      this.collection.query.fetchObjects({ limit: page, ...(cursor === null ? {} : { after: cursor }), includeVector: true, returnProperties: [...RETURNED, 'model_id'] }),
    );
    const got = objects(res);
    const records = got.map((o): MemoryRecord => {
      const raw = vectorOf(o);
      if (!raw) throw new BadDatabaseError(`Weaviate object ${o.uuid} in class ${this.className} has no vector`, { class: this.className, uuid: o.uuid });
      return { ...readMemory(o, this.className), vector: new Float32Array(raw), model_id: String(o.properties.model_id ?? '') };
    });
    return { records, next_cursor: got.length < page ? null : (got[got.length - 1] as Obj).uuid };
  }

  async delete(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    this.writable('delete', ids[0]);
    if (this.absent) return 0;
    const uuids = [...new Set(ids)].map(memoryUuid);
    let n = 0;
    for (let i = 0; i < uuids.length; i += DELETE_CHUNK) {
      const chunk = uuids.slice(i, i + DELETE_CHUNK);
      const res = await this.run(this.grpc('BatchDelete', 'delete', false), () => this.collection.data.deleteMany(this.collection.filter.byId().containsAny(chunk)));
      if (res.failed > 0) {
        throw new BadDatabaseError(`Weaviate delete at ${this.endpoints.grpc} (class ${this.className}): ${res.failed} of ${res.matches} objects were not deleted`);
      }
      n += res.successful;
    }
    return n;
  }

  async count(filter: MemoryFilter = {}): Promise<number> {
    if ((filter.categories !== undefined && filter.categories.length === 0) || this.absent) return 0;
    const res = await this.run(this.grpc('Aggregate', 'count'), () => this.collection.aggregate.overAll({ filters: this.filterOf(filter) }));
    return res.totalCount;
  }

  async model(): Promise<{ model_id: string; dimensions: number } | null> {
    if (this.absent) return null;
    const res = await this.run(this.grpc('Search', 'model'), () => this.collection.query.fetchObjects({ limit: 1, includeVector: true, returnProperties: ['model_id'] }));
    const o = objects(res)[0];
    if (!o) return null;
    const v = vectorOf(o);
    return { model_id: String(o.properties.model_id ?? ''), dimensions: v?.length ?? 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }
}

/** Validates one object read back: data another program wrote is checked, never trusted. */
export function readMemory(o: Obj, className: string): PersonaMemory {
  const p = o.properties;
  const id = typeof p.memory_id === 'string' && p.memory_id ? p.memory_id : o.uuid;
  const ts = p.timestamp instanceof Date ? p.timestamp : typeof p.timestamp === 'string' ? new Date(p.timestamp) : null;
  const category = p.category as MemoryCategory;
  if (typeof p.persona_id !== 'string' || typeof p.content !== 'string' || !MEMORY_CATEGORIES.includes(category) || !ts || Number.isNaN(ts.getTime())) {
    throw new BadDatabaseError(
      `Weaviate object ${o.uuid} in class ${className} is not a persona memory (persona_id, content, category ${MEMORY_CATEGORIES.join('|')}, timestamp date expected)`,
      { class: className, uuid: o.uuid },
    );
  }
  return { id, persona_id: p.persona_id, content: p.content, category, timestamp: ts.toISOString() };
}

/** Candidates asked of Weaviate for k: max(k × oversample, k + 32), at most 10 000. */
export function candidateCount(k: number, oversample: number): number {
  return Math.min(MAX_CANDIDATES, Math.max(Math.ceil(k * oversample), k + 32));
}

/** The stored vector of a returned object (the default, unnamed vector). */
export function vectorOf(o: Obj): number[] | undefined {
  const v = (o.vectors as Record<string, unknown> | undefined)?.default;
  return Array.isArray(v) ? (v as number[]) : undefined;
}

/** How close (in cosine) Weaviate's float32 ranking and ours may disagree. */
const RANK_SLACK = 1e-5;

/**
 * Re-scores Weaviate's candidates with the exact adapter's cosine (domain dot, the same norms
 * and the same division) and keeps the k best by (score desc, id asc); only those are read in
 * full (validated, timestamp formatted). `boundaryTied`: the worst candidate scores within
 * RANK_SLACK of the k-th best, so unseen memories might belong.
 */
export function rescore(q: MemoryQuery, objects: readonly Obj[], toMemory: (o: Obj) => PersonaMemory): { hits: MemoryHit[]; boundaryTied: boolean } {
  const qv = q.vector;
  const qn = Math.sqrt(dot(qv, qv)) || 1;
  const top = new TopK<{ id: string; o: Obj }>(q.k);
  let worst = Infinity;
  for (const o of objects) {
    const p = o.properties;
    // the filter again, here: a class made elsewhere may tokenize persona_id by words
    if (q.persona_id !== undefined && p.persona_id !== q.persona_id) continue;
    if (q.categories !== undefined && !q.categories.includes(p.category as MemoryCategory)) continue;
    const raw = vectorOf(o);
    if (!raw) throw new BadDatabaseError(`Weaviate returned object ${o.uuid} without its vector`);
    const v = new Float32Array(raw);
    const n = Math.sqrt(dot(v, v));
    const score = n === 0 ? 0 : dot(qv, v) / (qn * n);
    if (score < worst) worst = score;
    top.offer({ id: typeof p.memory_id === 'string' && p.memory_id ? p.memory_id : o.uuid, o }, score);
  }
  const hits = top.result().map(([h, score]) => ({ memory: toMemory(h.o), score }));
  const kth = hits.length === q.k ? (hits[hits.length - 1] as MemoryHit).score : -Infinity;
  return { hits, boundaryTied: objects.length > 0 && worst >= kth - RANK_SLACK };
}
