/**
 * The emulator's data: classes as Weaviate returns them from `GET /v1/schema/{class}` (defaults
 * filled in), objects with their properties and one unnamed vector, filters evaluated as
 * Weaviate evaluates them on field-tokenized text, and brute-force cosine search (distance =
 * 1 − cosine, computed over float32 vectors as Weaviate stores them).
 */

export type Props = Record<string, unknown>;

export interface StoredObject {
  readonly uuid: string;
  readonly properties: Props;
  readonly vector: Float32Array;
  readonly created_ms: number;
  readonly updated_ms: number;
}

export interface PropertyDef {
  readonly name: string;
  readonly dataType: readonly string[];
  readonly tokenization?: string;
  readonly indexFilterable?: boolean;
  readonly indexSearchable?: boolean;
  readonly description?: string;
}

export interface ClassDef {
  readonly class: string;
  readonly description?: string;
  readonly vectorizer: string;
  readonly vectorIndexType: string;
  readonly vectorIndexConfig: Record<string, unknown>;
  readonly properties: PropertyDef[];
  readonly [k: string]: unknown;
}

/** A failure with Weaviate's words and the status it answers with (HTTP for REST; the gRPC layer maps it). */
export class EmulatedError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

/** What Weaviate fills in on a class it returns (v1.32 defaults), so the client parses it as it parses a real one. */
function withDefaults(def: Record<string, unknown>): ClassDef {
  const props = ((def.properties as PropertyDef[] | undefined) ?? []).map((p) => propertyWithDefaults(p));
  return {
    class: def.class as string,
    ...(def.description !== undefined ? { description: def.description } : {}),
    invertedIndexConfig: {
      bm25: { b: 0.75, k1: 1.2 },
      cleanupIntervalSeconds: 60,
      stopwords: { additions: null, preset: 'en', removals: null },
      usingBlockMaxWAND: true,
    },
    multiTenancyConfig: { autoTenantActivation: false, autoTenantCreation: false, enabled: false },
    properties: props,
    replicationConfig: { asyncEnabled: false, deletionStrategy: 'TimeBasedResolution', factor: 1 },
    shardingConfig: {
      actualCount: 1,
      actualVirtualCount: 128,
      desiredCount: 1,
      desiredVirtualCount: 128,
      function: 'murmur3',
      key: '_id',
      strategy: 'hash',
      virtualPerPhysical: 128,
    },
    vectorIndexConfig: {
      bq: { enabled: false },
      cleanupIntervalSeconds: 300,
      distance: 'cosine',
      dynamicEfFactor: 8,
      dynamicEfMax: 500,
      dynamicEfMin: 100,
      ef: -1,
      efConstruction: 128,
      filterStrategy: 'sweeping',
      flatSearchCutoff: 40000,
      maxConnections: 32,
      pq: { enabled: false },
      skip: false,
      vectorCacheMaxObjects: 1000000000000,
      ...((def.vectorIndexConfig as Record<string, unknown> | undefined) ?? {}),
    },
    vectorIndexType: (def.vectorIndexType as string | undefined) ?? 'hnsw',
    vectorizer: (def.vectorizer as string | undefined) ?? 'none',
  } as ClassDef;
}

const DATA_TYPES = new Set(['text', 'date', 'int', 'number', 'boolean', 'uuid', 'text[]', 'date[]', 'int[]', 'number[]', 'boolean[]', 'uuid[]']);

function propertyWithDefaults(p: PropertyDef): PropertyDef {
  if (!p || typeof p.name !== 'string' || !/^[_A-Za-z][_0-9A-Za-z]*$/.test(p.name)) {
    throw new EmulatedError(422, `property name '${String(p?.name)}' is not valid`);
  }
  const t = p.dataType?.[0];
  if (!Array.isArray(p.dataType) || p.dataType.length !== 1 || !t || !DATA_TYPES.has(t)) {
    throw new EmulatedError(422, `property '${p.name}': invalid dataType: dataType ${JSON.stringify(p.dataType)} is not supported by this emulator`);
  }
  const text = t === 'text' || t === 'text[]';
  return {
    name: p.name,
    dataType: [t],
    ...(p.description !== undefined ? { description: p.description } : {}),
    indexFilterable: p.indexFilterable ?? true,
    indexRangeFilters: false,
    indexSearchable: p.indexSearchable ?? text,
    ...(text ? { tokenization: p.tokenization ?? 'word' } : {}),
  } as PropertyDef;
}

/** Weaviate's RFC 3339 rendering of a date (Go's RFC3339Nano: trailing zeros of the fraction dropped). */
export function weaviateDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

export class Collection {
  readonly objects = new Map<string, StoredObject>();
  /** Set by the first vector and kept (Weaviate's HNSW keeps its dimensions while the class exists). */
  dims = 0;
  constructor(public def: ClassDef) {}

  propertyType(name: string): string | undefined {
    return this.def.properties.find((p) => p.name === name)?.dataType[0];
  }

  /** Checks and normalises one object's properties against the schema (unknown properties refused: auto-schema is off). */
  normalise(props: Props): Props {
    const out: Props = {};
    for (const [k, v] of Object.entries(props)) {
      const t = this.propertyType(k);
      if (!t) throw new EmulatedError(422, `no such prop with name '${k}' found in class '${this.def.class}' in the schema. Check your schema files for which properties in this class are available`);
      if (v === null || v === undefined) continue;
      if (t === 'date') {
        const ms = typeof v === 'string' ? Date.parse(v) : NaN;
        if (Number.isNaN(ms)) throw new EmulatedError(422, `invalid date property '${k}' on class '${this.def.class}': requires a string with a RFC3339 formatted date, but the given value is '${String(v)}'`);
        out[k] = ms;
      } else if (t === 'text') {
        if (typeof v !== 'string') throw new EmulatedError(422, `invalid text property '${k}' on class '${this.def.class}': not a string, but ${typeof v}`);
        out[k] = v;
      } else out[k] = v;
    }
    return out;
  }

  put(uuid: string, props: Props, vector: Float32Array, now_ms: number): void {
    if (vector.length === 0) throw new EmulatedError(422, `object ${uuid}: a vector is required (the class has no vectorizer)`);
    if (this.dims === 0) this.dims = vector.length;
    else if (vector.length !== this.dims) {
      throw new EmulatedError(500, `insert to vector index: new node has a vector with length ${vector.length}. Existing nodes have vectors with length ${this.dims}`);
    }
    const prev = this.objects.get(uuid);
    this.objects.set(uuid, { uuid, properties: this.normalise(props), vector: Float32Array.from(vector), created_ms: prev?.created_ms ?? now_ms, updated_ms: now_ms });
  }

  /** Objects in the cursor's order (uuid ascending). */
  sorted(): StoredObject[] {
    return [...this.objects.values()].sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
  }
}

export class Store {
  private readonly classes = new Map<string, Collection>();

  get(name: string): Collection | undefined {
    return this.classes.get(name);
  }
  all(): Collection[] {
    return [...this.classes.values()];
  }

  /** POST /v1/schema. */
  create(def: Record<string, unknown>): ClassDef {
    const name = def.class;
    if (typeof name !== 'string' || !/^[A-Z][_0-9A-Za-z]*$/.test(name)) throw new EmulatedError(422, `'${String(name)}' is not a valid class name`);
    if (this.find(name)) throw new EmulatedError(422, `class name "${name}" already exists`);
    if (def.vectorizer !== undefined && def.vectorizer !== 'none') throw new EmulatedError(422, `vectorizer: no module with name "${String(def.vectorizer)}" present`);
    if (def.vectorIndexType !== undefined && def.vectorIndexType !== 'hnsw' && def.vectorIndexType !== 'flat') {
      throw new EmulatedError(422, `unrecognized or unsupported vectorIndexType "${String(def.vectorIndexType)}"`);
    }
    const vic = def.vectorIndexConfig as { distance?: unknown } | undefined;
    if (vic?.distance !== undefined && vic.distance !== 'cosine') throw new EmulatedError(422, `this emulator serves distance "cosine" only, not "${String(vic.distance)}"`);
    const c = new Collection(withDefaults(def));
    const names = new Set<string>();
    for (const p of c.def.properties) {
      if (names.has(p.name.toLowerCase())) throw new EmulatedError(422, `class "${name}": conflict for property "${p.name}": already in use or provided multiple times`);
      names.add(p.name.toLowerCase());
    }
    this.classes.set(name, c);
    return c.def;
  }

  /** Class names are matched case-insensitively on the first letter as Weaviate does (it capitalises). */
  find(name: string): Collection | undefined {
    return this.classes.get(name) ?? this.classes.get(name.charAt(0).toUpperCase() + name.slice(1));
  }

  drop(name: string): void {
    const c = this.find(name);
    if (c) this.classes.delete(c.def.class);
  }

  addProperty(name: string, p: PropertyDef): PropertyDef {
    const c = this.find(name);
    if (!c) throw new EmulatedError(422, `collection "${name}" not found in schema`);
    if (c.def.properties.some((q) => q.name.toLowerCase() === String(p?.name).toLowerCase())) {
      throw new EmulatedError(422, `class "${c.def.class}": conflict for property "${p.name}": already in use or provided multiple times`);
    }
    const full = propertyWithDefaults(p);
    c.def = { ...c.def, properties: [...c.def.properties, full] };
    return full;
  }
}

/** Cosine distance as Weaviate reports it: 1 − cos(a, b), on the float32 values it stores. */
export function cosineDistance(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa === 0 || bb === 0) return 1;
  return 1 - ab / Math.sqrt(aa * bb);
}
