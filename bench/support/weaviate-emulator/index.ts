/**
 * A wire-level Weaviate emulator: the REST routes and gRPC methods weaviate-client v3 uses for
 * persona memory, in one process, with a call log, fault switches and a list of calls it did
 * not know (which the tests turn into failures). Test code and benchmarks only; see
 * test/weaviate/README.md for what it serves and how faithfully.
 */
import type { Server } from 'node:http';
import { CallLog, type FaultRule } from './faults.ts';
import { startGrpc, type GrpcServer } from './grpc.ts';
import { startRest } from './rest.ts';
import { Store } from './store.ts';

export type { FaultRule, LoggedCall } from './faults.ts';

export interface EmulatorOptions {
  /** Require `Authorization: Bearer <apiKey>` on REST (but the well-known probes) and gRPC. */
  readonly apiKey?: string;
  /** What `/v1/meta` reports (default 1.32.4; the client needs ≥ 1.27 for gRPC and uses gRPC aggregate from 1.29). */
  readonly version?: string;
}

export interface WeaviateEmulator {
  /** The REST base URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly grpcPort: number;
  /** Bytes through the gRPC port so far (HTTP/2 framing included). */
  readonly grpcWire: { readonly up_bytes: number; readonly down_bytes: number };
  readonly store: Store;
  readonly log: CallLog;
  /** Makes the next calls of one target fail (see FaultRule). */
  fault(rule: FaultRule): void;
  /** Clears faults, the call log and the unknown calls (between tests). */
  reset(): void;
  close(): Promise<void>;
}

export async function startWeaviateEmulator(opts: EmulatorOptions = {}): Promise<WeaviateEmulator> {
  const store = new Store();
  const log = new CallLog();
  const rest = await startRest({ store, log, version: opts.version ?? '1.32.4', apiKey: opts.apiKey });
  let grpc: GrpcServer;
  try {
    grpc = await startGrpc({ store, log, apiKey: opts.apiKey });
  } catch (e) {
    await closeHttp(rest.server);
    throw e;
  }
  return {
    url: `http://127.0.0.1:${rest.port}`,
    grpcPort: grpc.port,
    grpcWire: grpc.wire,
    store,
    log,
    fault: (rule) => log.addFault(rule),
    reset: () => log.reset(),
    close: async () => {
      await grpc.close();
      await closeHttp(rest.server);
    },
  };
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
