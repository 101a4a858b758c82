/**
 * The gRPC half of the emulator, served with nice-grpc from weaviate-client's own generated
 * definitions (`WeaviateDefinition` of its `proto/v1/weaviate` module, `HealthDefinition` of
 * `proto/google/health/v1/health`), so requests and replies are encoded exactly as the client
 * encodes and decodes them. Served: Health/Check, Search (fetch, cursor, filters, nearVector),
 * BatchObjects, BatchDelete, Aggregate (objects count). A method, or a request field, that it
 * does not serve is logged as unknown and answered UNIMPLEMENTED.
 *
 * The client's package exports only its entry point, so the definitions are loaded from its
 * CommonJS build by file path (createRequire), typed here by what the emulator reads.
 */
import { createRequire } from 'node:module';
import { createServer as createTcpServer, connect, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createServer, ServerError, Status, type CallContext, type Server } from 'nice-grpc';
import { cosineDistance, EmulatedError, weaviateDate, type Collection, type Props, type StoredObject, type Store } from './store.ts';
import { wait, type CallLog } from './faults.ts';

const require = createRequire(import.meta.url);
const cjsRoot = dirname(require.resolve('weaviate-client'));
type Definition = Parameters<Server['add']>[0];
/** weaviate-client's generated service definitions (CommonJS build). */
export const WEAVIATE_DEFINITION = (require(join(cjsRoot, 'proto/v1/weaviate.js')) as { WeaviateDefinition: Definition }).WeaviateDefinition;
const HEALTH_DEFINITION = (require(join(cjsRoot, 'proto/google/health/v1/health.js')) as { HealthDefinition: Definition }).HealthDefinition;

// ---- the request fields the emulator reads (the generated types, narrowed) ----
interface TextArray {
  values: string[];
}
interface Filters {
  operator: number;
  on: string[];
  filters: Filters[];
  valueText?: string;
  valueInt?: number;
  valueBoolean?: boolean;
  valueNumber?: number;
  valueTextArray?: TextArray;
  valueIntArray?: unknown;
  valueBooleanArray?: unknown;
  valueNumberArray?: unknown;
  valueGeo?: unknown;
  target?: { property?: string; singleTarget?: unknown; multiTarget?: unknown; count?: unknown };
}
interface VectorsMsg {
  name: string;
  vectorBytes: Uint8Array;
  type: number;
}
interface NearVector {
  vector: number[];
  vectorBytes: Uint8Array;
  vectors: VectorsMsg[];
  certainty?: number;
  distance?: number;
  targetVectors: string[];
  targets?: unknown;
  vectorForTargets: unknown[];
  vectorPerTarget: Record<string, unknown>;
}
interface SearchRequest {
  collection: string;
  tenant: string;
  limit: number;
  offset: number;
  autocut: number;
  after: string;
  sortBy: unknown[];
  filters?: Filters;
  nearVector?: NearVector;
  metadata?: { uuid: boolean; vector: boolean; distance: boolean; certainty: boolean; score: boolean; explainScore: boolean; isConsistent: boolean; vectors: string[] };
  properties?: { nonRefProperties: string[]; refProperties: unknown[]; objectProperties: unknown[]; returnAllNonrefProperties: boolean };
  [k: string]: unknown;
}
interface BatchObject {
  uuid: string;
  vector: number[];
  vectorBytes: Uint8Array;
  vectors: VectorsMsg[];
  collection: string;
  tenant: string;
  properties?: { nonRefProperties?: Props; [k: string]: unknown };
}
interface BatchDeleteRequest {
  collection: string;
  tenant?: string;
  filters?: Filters;
  verbose: boolean;
  dryRun: boolean;
}
interface AggregateRequest {
  collection: string;
  tenant: string;
  objectsCount: boolean;
  aggregations: unknown[];
  filters?: Filters;
  groupBy?: unknown;
  objectLimit?: number;
  [k: string]: unknown;
}

const OP = { EQUAL: 1, NOT_EQUAL: 2, AND: 7, OR: 8, CONTAINS_ANY: 12, NOT: 15 } as const;
const QUERY_DEFAULTS_LIMIT = 10;
const QUERY_MAXIMUM_RESULTS = 10_000;
const SEARCH_UNSUPPORTED = ['groupBy', 'hybridSearch', 'bm25Search', 'nearObject', 'nearText', 'nearImage', 'nearAudio', 'nearVideo', 'nearDepth', 'nearThermal', 'nearImu', 'generative', 'rerank'];
const AGGREGATE_UNSUPPORTED = ['groupBy', 'hybrid', 'nearVector', 'nearObject', 'nearText', 'nearImage', 'nearAudio', 'nearVideo', 'nearDepth', 'nearThermal', 'nearImu'];

/** A request the emulator does not serve: logged, then UNIMPLEMENTED. */
class Unknown extends Error {}

function float32(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, Math.floor(copy.byteLength / 4));
}
function bytesOf(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}
function uuidBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replaceAll('-', ''), 'hex'));
}

/** The one vector an object or a nearVector carries (legacy bytes, the `vectors` list, or the deprecated float list). */
function vectorIn(m: { vector: number[]; vectorBytes: Uint8Array; vectors: VectorsMsg[] }, what: string): Float32Array {
  if (m.vectorBytes.length > 0) return float32(m.vectorBytes);
  if (m.vectors.length > 0) {
    if (m.vectors.length > 1 || (m.vectors[0]!.name !== '' && m.vectors[0]!.name !== 'default')) {
      throw new Unknown(`${what}: named or multiple vectors (${m.vectors.map((v) => v.name).join(', ')})`);
    }
    if (m.vectors[0]!.type > 1) throw new Unknown(`${what}: multi-vector`);
    return float32(m.vectors[0]!.vectorBytes);
  }
  return Float32Array.from(m.vector);
}

function checkFilterProps(f: Filters | undefined, c: Collection): void {
  if (!f) return;
  for (const sub of f.filters) checkFilterProps(sub, c);
  if (f.operator === OP.AND || f.operator === OP.OR || f.operator === OP.NOT) return;
  if (f.target?.singleTarget || f.target?.multiTarget || f.target?.count) throw new Unknown('filter on a reference');
  const prop = f.target?.property ?? f.on[0];
  if (prop === undefined) throw new EmulatedError(422, 'invalid filter: no property');
  if (prop !== '_id' && !c.propertyType(prop)) {
    throw new EmulatedError(422, `no such prop with name '${prop}' found in class '${c.def.class}' in the schema. Check your schema files for which properties in this class are available`);
  }
}

/** Filters on text and ids, evaluated as Weaviate does on field-tokenized text. */
function matches(f: Filters | undefined, o: StoredObject): boolean {
  if (!f) return true;
  switch (f.operator) {
    case OP.AND:
      return f.filters.every((s) => matches(s, o));
    case OP.OR:
      return f.filters.some((s) => matches(s, o));
    case OP.NOT:
      return !matches(f.filters[0], o);
  }
  const prop = (f.target?.property ?? f.on[0]) as string;
  const have = prop === '_id' ? o.uuid : o.properties[prop];
  const scalar = f.valueText ?? f.valueInt ?? f.valueNumber ?? f.valueBoolean;
  if (f.valueIntArray || f.valueBooleanArray || f.valueNumberArray || f.valueGeo) throw new Unknown(`filter value type on ${prop}`);
  switch (f.operator) {
    case OP.EQUAL:
      return scalar !== undefined && have === scalar;
    case OP.NOT_EQUAL:
      return scalar !== undefined && have !== scalar;
    case OP.CONTAINS_ANY:
      if (!f.valueTextArray) throw new Unknown(`ContainsAny on ${prop} without a text array`);
      return f.valueTextArray.values.includes(have as string);
    default:
      throw new Unknown(`filter operator ${f.operator}`);
  }
}

function propertyValue(c: Collection, name: string, v: unknown): Record<string, unknown> {
  const t = c.propertyType(name);
  if (t === 'date') return { dateValue: weaviateDate(v as number) };
  if (t === 'text') return { textValue: v };
  if (t === 'int') return { intValue: v };
  if (t === 'number') return { numberValue: v };
  if (t === 'boolean') return { boolValue: v };
  if (t === 'uuid') return { uuidValue: v };
  throw new Unknown(`returning a property of type ${t}`);
}

export interface GrpcOptions {
  readonly store: Store;
  readonly log: CallLog;
  readonly apiKey?: string;
}

export interface GrpcServer {
  /** The port clients connect to (a TCP relay in front of the gRPC server, so connections can be dropped). */
  readonly port: number;
  /** Bytes through the relay since start (HTTP/2 framing included): client → server, server → client. */
  readonly wire: { up_bytes: number; down_bytes: number };
  close(): Promise<void>;
}

/** Starts the gRPC server behind a TCP relay on 127.0.0.1. */
export async function startGrpc(o: GrpcOptions): Promise<GrpcServer> {
  const { store, log } = o;
  const sockets = new Set<Socket>();
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };

  /** Logs the call, applies faults and auth, maps errors to gRPC statuses. */
  const serve =
    <Req, Res>(method: string, fn: (req: Req) => Res | Promise<Res>, auth = true) =>
    async (req: Req, ctx: CallContext): Promise<Res> => {
      const target = `grpc ${method}`;
      log.record(target, (req as { collection?: string }).collection ?? '');
      const fault = log.take(target);
      if (fault?.mode === 'drop') {
        dropAll();
        await wait(60_000, ctx.signal).catch(() => undefined);
        throw new ServerError(Status.UNAVAILABLE, 'connection dropped');
      }
      if (fault?.mode === 'status') throw new ServerError(fault.status ?? Status.UNAVAILABLE, `emulated fault on ${target}`);
      if (fault?.mode === 'slow') {
        await wait(fault.delay_ms ?? 1000, ctx.signal).catch(() => {
          throw new ServerError(Status.CANCELLED, 'the client gave up');
        });
      }
      if (auth && o.apiKey !== undefined && ctx.metadata.get('authorization') !== `Bearer ${o.apiKey}`) {
        throw new ServerError(Status.UNAUTHENTICATED, 'anonymous access not enabled, please provide an auth scheme such as OIDC');
      }
      try {
        return await fn(req);
      } catch (e) {
        if (e instanceof Unknown) {
          log.recordUnknown(`gRPC ${method}: ${e.message}`);
          throw new ServerError(Status.UNIMPLEMENTED, `the emulator does not serve ${method} with ${e.message}`);
        }
        // Weaviate's handlers return plain Go errors (fmt.Errorf), which grpc-go sends as UNKNOWN with the message
        if (e instanceof EmulatedError) throw new ServerError(Status.UNKNOWN, e.message);
        throw e;
      }
    };
  const unknownMethod = (method: string) => async () => {
    log.recordUnknown(`gRPC ${method}`);
    throw new ServerError(Status.UNIMPLEMENTED, `the emulator does not serve ${method}`);
  };

  const collection = (name: string, tenant: string | undefined): Collection => {
    if (tenant) throw new Unknown('a tenant');
    const c = store.find(name);
    if (!c) throw new EmulatedError(422, `could not find class ${name} in schema`);
    return c;
  };

  const search = (req: SearchRequest) => {
    const c = collection(req.collection, req.tenant);
    for (const k of SEARCH_UNSUPPORTED) if (req[k] !== undefined) throw new Unknown(`Search.${k}`);
    if (req.sortBy.length > 0) throw new Unknown('Search.sortBy');
    if (req.autocut !== 0) throw new Unknown('Search.autocut');
    if (req.properties && (req.properties.refProperties.length > 0 || req.properties.objectProperties.length > 0)) throw new Unknown('Search.properties of references or objects');
    if (req.metadata && req.metadata.vectors.length > 0) throw new Unknown('Search.metadata.vectors (named vectors)');
    if (req.metadata && (req.metadata.score || req.metadata.explainScore)) throw new Unknown('Search.metadata.score');
    checkFilterProps(req.filters, c);
    const limit = req.limit > 0 ? req.limit : QUERY_DEFAULTS_LIMIT;
    if (req.offset + limit > QUERY_MAXIMUM_RESULTS) throw new EmulatedError(422, `query maximum results exceeded: offset ${req.offset} + limit ${limit} > ${QUERY_MAXIMUM_RESULTS}`);
    let rows: { o: StoredObject; distance?: number }[];
    if (req.after !== '') {
      if (req.filters || req.nearVector || req.offset > 0) throw new EmulatedError(422, "explorer: list class: search: invalid pagination params: cursor api: invalid 'after' parameter: other params cannot be set");
      rows = c.sorted().filter((x) => x.uuid > req.after).map((o) => ({ o }));
    } else if (req.nearVector) {
      const nv = req.nearVector;
      if (nv.targetVectors.length > 0 || nv.targets || nv.vectorForTargets.length > 0 || Object.keys(nv.vectorPerTarget).length > 0) throw new Unknown('nearVector on named targets');
      if (nv.certainty !== undefined || nv.distance !== undefined) throw new Unknown('nearVector certainty/distance threshold');
      const q = vectorIn(nv, 'nearVector');
      if (c.dims !== 0 && q.length !== c.dims) {
        throw new EmulatedError(500, `explorer: get class: vector search: object vector search at index ${c.def.class.toLowerCase()}: shard: vector search: KnnSearchByVectorMaxDist: vector lengths don't match: ${q.length} vs ${c.dims}`);
      }
      rows = [...c.objects.values()]
        .filter((o) => matches(req.filters, o))
        .map((o) => ({ o, distance: cosineDistance(q, o.vector) }))
        .sort((a, b) => (a.distance as number) - (b.distance as number) || (a.o.uuid < b.o.uuid ? -1 : 1));
    } else {
      rows = c.sorted().filter((o) => matches(req.filters, o)).map((o) => ({ o }));
    }
    const page = rows.slice(req.offset, req.offset + limit);
    const wanted = req.properties && !req.properties.returnAllNonrefProperties ? req.properties.nonRefProperties : c.def.properties.map((p) => p.name);
    for (const p of wanted) if (!c.propertyType(p)) throw new EmulatedError(422, `no such prop with name '${p}' found in class '${c.def.class}'`);
    return {
      took: 0,
      results: page.map(({ o, distance }) => {
        const fields: Record<string, unknown> = {};
        for (const p of wanted) if (o.properties[p] !== undefined) fields[p] = propertyValue(c, p, o.properties[p]);
        return {
          properties: req.properties ? { nonRefProps: { fields }, refProps: [], targetCollection: c.def.class, refPropsRequested: false } : undefined,
          metadata: {
            id: o.uuid,
            ...(req.metadata?.vector ? { vectorBytes: bytesOf(o.vector) } : {}),
            ...(req.metadata?.distance && distance !== undefined ? { distance, distancePresent: true } : {}),
            ...(req.metadata?.certainty && distance !== undefined ? { certainty: 1 - distance / 2, certaintyPresent: true } : {}),
            ...(req.metadata?.isConsistent ? { isConsistent: true, isConsistentPresent: true } : {}),
          },
        };
      }),
      groupByResults: [],
    };
  };

  const batchObjects = (req: { objects: BatchObject[] }) => {
    const errors: { index: number; error: string }[] = [];
    const now = Date.now();
    req.objects.forEach((b, index) => {
      try {
        const c = collection(b.collection, b.tenant);
        const extra = Object.entries(b.properties ?? {}).filter(([k, v]) => k !== 'nonRefProperties' && Array.isArray(v) && v.length > 0);
        if (extra.length > 0) throw new Unknown(`BatchObjects properties ${extra.map(([k]) => k).join(', ')}`);
        if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(b.uuid)) throw new EmulatedError(422, `invalid uuid "${b.uuid}"`);
        c.put(b.uuid.toLowerCase(), b.properties?.nonRefProperties ?? {}, vectorIn(b, 'BatchObjects'), now);
      } catch (e) {
        if (e instanceof Unknown) throw e;
        errors.push({ index, error: (e as Error).message });
      }
    });
    return { took: 0, errors };
  };

  const batchDelete = (req: BatchDeleteRequest) => {
    const c = collection(req.collection, req.tenant);
    if (!req.filters) throw new EmulatedError(422, 'validate: empty where filter');
    checkFilterProps(req.filters, c);
    const hit = c.sorted().filter((o) => matches(req.filters, o));
    if (hit.length > QUERY_MAXIMUM_RESULTS) throw new Unknown(`BatchDelete matching more than ${QUERY_MAXIMUM_RESULTS}`);
    if (!req.dryRun) for (const o of hit) c.objects.delete(o.uuid);
    return {
      took: 0,
      failed: 0,
      matches: hit.length,
      successful: req.dryRun ? 0 : hit.length,
      objects: req.verbose ? hit.map((o) => ({ uuid: uuidBytes(o.uuid), successful: !req.dryRun })) : [],
    };
  };

  const aggregate = (req: AggregateRequest) => {
    const c = collection(req.collection, req.tenant);
    for (const k of AGGREGATE_UNSUPPORTED) if (req[k] !== undefined) throw new Unknown(`Aggregate.${k}`);
    if (req.aggregations.length > 0) throw new Unknown('Aggregate.aggregations (property metrics)');
    checkFilterProps(req.filters, c);
    const n = c.sorted().filter((o) => matches(req.filters, o)).length;
    return { took: 0, singleResult: { objectsCount: req.objectsCount ? n : undefined } };
  };

  const server = createServer();
  server.add(HEALTH_DEFINITION, {
    check: serve('Health/Check', () => ({ status: 1 }), false),
    watch: unknownMethod('Health/Watch'),
  } as never);
  server.add(WEAVIATE_DEFINITION, {
    search: serve('Search', search),
    batchObjects: serve('BatchObjects', batchObjects),
    batchDelete: serve('BatchDelete', batchDelete),
    aggregate: serve('Aggregate', aggregate),
    batchReferences: unknownMethod('BatchReferences'),
    tenantsGet: unknownMethod('TenantsGet'),
    // eslint-disable-next-line require-yield
    batchStream: async function* () {
      log.recordUnknown('gRPC BatchStream');
      throw new ServerError(Status.UNIMPLEMENTED, 'the emulator does not serve BatchStream');
    },
  } as never);
  const innerPort = await server.listen('127.0.0.1:0');

  const wire = { up_bytes: 0, down_bytes: 0 };
  // the relay: one upstream connection per client connection; a "drop" fault destroys them all
  const relay: TcpServer = createTcpServer((client) => {
    const upstream = connect(innerPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client);
    const end = () => {
      sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
    client.on('data', (b: Buffer) => (wire.up_bytes += b.length));
    upstream.on('data', (b: Buffer) => (wire.down_bytes += b.length));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    wire,
    close: async () => {
      dropAll();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      server.forceShutdown();
    },
  };
}
