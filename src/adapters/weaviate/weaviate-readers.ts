/**
 * The persona memory reader (src/ports/readers.ts) over a Weaviate class, for inspection: reads
 * only, whatever wrote the class. It never creates the class nor adds a property (an absent class
 * reads as empty), and it asks for exactly the properties the class has, so a class Chimera's
 * own services made with only the seed's four (`persona_id`, `content`, `category`,
 * `timestamp`, no `memory_id`, no `model_id`) reads as well as ours: such an object's id is its
 * uuid and its model is "not recorded". An object that is not a persona memory (a missing
 * property, an unknown category, a bad date) comes back marked with its raw properties; it never
 * fails the page.
 *
 * - list walks the class with the cursor (`after`, by uuid; Weaviate's cursor takes no filter
 *   and no sort), filters each object here and sorts by (timestamp, id): a page costs a walk of
 *   the class, which is what a cursor over a filtered, sorted view costs in Weaviate.
 * - count is Weaviate's aggregate when nothing is filtered, else the same walk as list (a class
 *   made elsewhere may tokenize persona_id by words, so Weaviate's filtered count can be wrong).
 * - search asks Weaviate for an oversampled candidate list (nearVector, filtered, with the
 *   vectors) and measures each candidate's cosine distance here (adapters/shared/memory-neighbours.ts),
 *   asking for more while the k-th could still tie with what lies beyond the list, as the store
 *   adapter does. A class whose vectors have another length than the query's is not searched:
 *   every memory passing the filter is reported left out.
 */
import { Filters, type Collection, type FilterValue, type WeaviateClient } from 'weaviate-client';
import { ConfigError } from '../../domain/errors.ts';
import { dot } from '../../domain/vectors.ts';
import { PersonaMemorySchema, type PersonaMemory } from '../../domain/schemas.ts';
import {
  readLimit,
  searchK,
  type MemoryListQuery,
  type MemorySearchQuery,
  type MemorySearchResult,
  type Page,
  type PersonaMemoryReader,
  type ReadRow,
  type StoredMemoryObject,
} from '../../ports/readers.ts';
import { checkedRow, cutPage, decodeCursor, keyAfter, type SortKey } from '../shared/reader-pages.ts';
import { cosineDistance, modelLabel, NearestMemories } from '../shared/memory-neighbours.ts';
import { call, type CallSite, type RetryPolicy } from './weaviate-calls.ts';
import { checkClassName, memoryUuid, PERSONA_MEMORY_CLASS } from './weaviate-schema.ts';
import { candidateCount, connectWeaviate, type ReturnedObject, vectorOf } from './weaviate-persona-memory.ts';

export interface WeaviateReaderOptions {
  /** REST endpoint, e.g. http://localhost:8080 (https = TLS for REST and gRPC). */
  readonly url: string;
  readonly apiKey?: string;
  /** The class (default `PersonaMemory`, the seed's). */
  readonly className?: string;
  /** gRPC port (default 50051; 443 for https URLs without a port). */
  readonly grpcPort?: number;
  /** Per request, every attempt (default 10 000 ms). */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Candidates asked per search: max(k × oversample, k + 32) (default 2). */
  readonly oversample?: number;
  /** Objects per cursor page of a walk (default 500). */
  readonly pageSize?: number;
}

const MAX_CANDIDATES = 10_000;
/** How close (in distance) Weaviate's float32 ranking and ours may disagree. */
const RANK_SLACK = 1e-5;

type Obj = ReturnedObject;
const objectsOf = (res: { objects: readonly unknown[] }): Obj[] => res.objects as Obj[];

/** A property value as the wire carries it (a date read back as a Date becomes its ISO text). */
const plain = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(plain(v)));

/** Our id of an object: its `memory_id` when it has one, else its uuid (an object another program wrote). */
function idOf(o: Obj): string {
  const m = o.properties.memory_id;
  return typeof m === 'string' && m ? m : o.uuid;
}

/** Every property of an object as stored (dates as ISO text), after the id the reader knows it by and its uuid. */
function propertiesOf(o: Obj): Record<string, unknown> {
  const out: Record<string, unknown> = { id: idOf(o), uuid: o.uuid };
  for (const [k, v] of Object.entries(o.properties)) out[k] = plain(v);
  return out;
}

/** A date property as ISO text with milliseconds (Weaviate renders RFC 3339 its own way); anything else as it is. */
function isoOf(v: unknown): unknown {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? v : v.toISOString();
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? v : new Date(ms).toISOString();
  }
  return v;
}

/** The object as a persona memory, checked; one that does not fit comes back marked with its raw properties. */
function rowOf(o: Obj): ReadRow<PersonaMemory> {
  const p = o.properties;
  const raw = propertiesOf(o);
  return checkedRow(PersonaMemorySchema, raw, () => ({ id: idOf(o), persona_id: p.persona_id, content: p.content, category: p.category, timestamp: isoOf(p.timestamp) }));
}

const keyOf = (o: Obj): SortKey => [str(isoOf(o.properties.timestamp)), idOf(o)];

function matches(o: Obj, f: Omit<MemoryListQuery, 'cursor' | 'limit'>): boolean {
  if (f.persona_id !== undefined && o.properties.persona_id !== f.persona_id) return false;
  if (f.categories !== undefined && !f.categories.includes(o.properties.category as never)) return false;
  return true;
}

/** Opens a reader on a Weaviate class (reads its schema; creates nothing). */
export async function openWeaviateMemoryReader(opts: WeaviateReaderOptions): Promise<PersonaMemoryReader & { close(): Promise<void>; readonly className: string }> {
  return WeaviateMemoryReader.open(opts);
}

class WeaviateMemoryReader implements PersonaMemoryReader {
  private readonly collection: Collection;
  private closed = false;

  private constructor(
    private readonly client: WeaviateClient,
    readonly className: string,
    private readonly endpoints: { rest: string; grpc: string },
    private readonly policy: RetryPolicy,
    private readonly timeoutMs: number,
    private readonly opts: WeaviateReaderOptions,
    /** The class's properties (null: no class; every read is empty). */
    private readonly props: readonly string[] | null,
  ) {
    this.collection = client.collections.use(className);
  }

  static async open(opts: WeaviateReaderOptions): Promise<WeaviateMemoryReader> {
    const className = checkClassName(opts.className ?? PERSONA_MEMORY_CLASS);
    const { client, endpoints, policy, timeoutMs } = await connectWeaviate(opts);
    const rest = endpoints.rest;
    try {
      const def = await call({ op: 'read class', endpoint: `${rest}/v1/schema/${className}`, safe: true }, policy, timeoutMs, async () => {
        try {
          return await client.collections.export(className);
        } catch (e) {
          if ((e as { code?: unknown }).code === 404) return null;
          throw e;
        }
      });
      // references and nested objects are not asked for: the reader reads the flat properties
      const props = def ? def.properties.filter((p) => p.dataType !== 'object' && p.dataType !== 'object[]').map((p) => p.name) : null;
      return new WeaviateMemoryReader(client, className, endpoints, policy, timeoutMs, opts, props);
    } catch (e) {
      await client.close();
      throw e;
    }
  }

  private run<T>(method: string, op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ConfigError(`the Weaviate memory reader (class ${this.className}) is closed`));
    const site: CallSite = { op: `${op} (class ${this.className})`, endpoint: `${this.endpoints.grpc} weaviate.v1.Weaviate/${method}`, safe: true };
    return call(site, this.policy, this.timeoutMs, fn);
  }

  private has(prop: string): boolean {
    return this.props?.includes(prop) ?? false;
  }

  /** The filter Weaviate applies first (each object is checked again here); only on properties the class has. */
  private filterOf(f: Omit<MemoryListQuery, 'cursor' | 'limit'>): FilterValue | undefined {
    const parts: FilterValue[] = [];
    if (f.persona_id !== undefined && this.has('persona_id')) parts.push(this.collection.filter.byProperty('persona_id').equal(f.persona_id));
    if (f.categories !== undefined && this.has('category')) parts.push(this.collection.filter.byProperty('category').containsAny([...f.categories]));
    return parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : Filters.and(...parts);
  }

  /** Every object of the class, a cursor page at a time (by uuid), passing `f`. */
  private async walk(f: Omit<MemoryListQuery, 'cursor' | 'limit'>): Promise<Obj[]> {
    const out: Obj[] = [];
    if (this.props === null) return out;
    const page = this.opts.pageSize ?? 500;
    let after: string | undefined;
    for (;;) {
      const res = await this.run('Search', 'list', () => this.collection.query.fetchObjects({ limit: page, after, returnProperties: [...(this.props as string[])] }));
      const got = objectsOf(res);
      for (const o of got) if (matches(o, f)) out.push(o);
      if (got.length < page) return out;
      after = (got[got.length - 1] as Obj).uuid;
    }
  }

  async list(q: MemoryListQuery = {}): Promise<Page<PersonaMemory>> {
    const limit = readLimit(q.limit);
    const from = decodeCursor('memories', 'ss', q.cursor);
    if (q.categories !== undefined && q.categories.length === 0) return { items: [], next_cursor: null };
    const all = (await this.walk(q)).map((o) => ({ o, key: keyOf(o) })).sort((a, b) => (keyAfter(a.key, b.key) ? 1 : keyAfter(b.key, a.key) ? -1 : 0));
    const rows: { o: Obj; key: SortKey }[] = [];
    for (const r of all) {
      if (from && !keyAfter(r.key, from)) continue;
      rows.push(r);
      if (rows.length > limit) break;
    }
    return cutPage('memories', rows, limit, (r) => r.key, (r) => rowOf(r.o));
  }

  async count(f: Omit<MemoryListQuery, 'cursor' | 'limit'> = {}): Promise<number> {
    if (this.props === null || (f.categories !== undefined && f.categories.length === 0)) return 0;
    if (f.persona_id === undefined && f.categories === undefined) {
      const res = await this.run('Aggregate', 'count', () => this.collection.aggregate.overAll());
      return res.totalCount;
    }
    return (await this.walk(f)).length;
  }

  /** The class's vector length and the model recorded on one object (null: no object). */
  private async sample(): Promise<{ dimensions: number | null; model_id: string | null } | null> {
    const returnProperties = this.has('model_id') ? ['model_id'] : [];
    const res = await this.run('Search', 'model', () => this.collection.query.fetchObjects({ limit: 1, includeVector: true, returnProperties }));
    const o = objectsOf(res)[0];
    if (!o) return null;
    const m = o.properties.model_id;
    return { dimensions: vectorOf(o)?.length ?? null, model_id: typeof m === 'string' && m ? m : null };
  }

  async search(q: MemorySearchQuery): Promise<MemorySearchResult> {
    const k = searchK(q.k);
    if (this.props === null || (q.categories !== undefined && q.categories.length === 0)) return new NearestMemories(q).result(false);
    const sample = await this.sample();
    if (sample === null) return new NearestMemories(q).result(false);
    if (sample.dimensions !== q.vector.length) {
      // Weaviate refuses a query of another length: nothing in the class can be compared with it
      const near = new NearestMemories(q);
      near.leaveOut(await this.count(q), modelLabel(sample.model_id, sample.dimensions));
      return near.result(false);
    }
    const qv = Array.from(q.vector);
    const qn = Math.sqrt(dot(q.vector, q.vector)) || 1;
    let limit = candidateCount(k, this.opts.oversample ?? 2);
    for (;;) {
      const near = new NearestMemories(q);
      const res = await this.run('Search', 'search', () =>
        this.collection.query.nearVector(qv, { limit, filters: this.filterOf(q), includeVector: true, returnProperties: [...(this.props as string[])] }),
      );
      const got = objectsOf(res);
      let farthest = -Infinity;
      for (const o of got) {
        if (!matches(o, q)) continue;
        const raw = vectorOf(o);
        const vector = raw ? new Float32Array(raw) : null;
        const m = o.properties.model_id;
        near.offer(idOf(o), () => rowOf(o), vector, typeof m === 'string' && m ? m : null);
        if (vector && vector.length === q.vector.length) farthest = Math.max(farthest, cosineDistance(q.vector, qn, vector));
      }
      const result = near.result(false);
      const kth = result.items.length === k ? (result.items[k - 1] as { distance: number }).distance : Infinity;
      // more may lie beyond a full list: too few comparable candidates, or a k-th that could tie with the unseen
      const more = got.length >= limit && limit < MAX_CANDIDATES && (result.items.length < k || farthest <= kth + RANK_SLACK);
      if (!more) return result;
      limit = Math.min(MAX_CANDIDATES, limit * 4);
    }
  }

  async get(id: string): Promise<StoredMemoryObject | null> {
    if (this.props === null) return null;
    const props = [...this.props];
    const byUuid = (uuid: string) => this.run('Search', 'get', () => this.collection.query.fetchObjectById(uuid, { includeVector: true, returnProperties: props }));
    // our objects are at the uuidv5 of their memory id; another program's are known by their uuid
    let o = (this.has('memory_id') ? await byUuid(memoryUuid(id)) : null) as unknown as Obj | null;
    if ((!o || idOf(o) !== id) && UUID.test(id)) o = (await byUuid(id.toLowerCase())) as unknown as Obj | null;
    if (!o || idOf(o) !== id) return null;
    const m = o.properties.model_id;
    return { row: rowOf(o), properties: propertiesOf(o), model_id: typeof m === 'string' && m ? m : null, dimensions: vectorOf(o)?.length ?? null };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
