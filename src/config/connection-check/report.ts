/**
 * The report's shape on the core's side. src/config may not import src/shared (the layer rules:
 * the composition root knows nothing of the UI), so this is a copy of
 * src/shared/connection-report.ts, the renderer's; test/layering/wire-copies.test.ts keeps the
 * lists equal and the types assignable both ways. Field docs live in the shared file.
 */
export const CONNECTION_SERVICES = ['postgres', 'redis', 'weaviate'] as const;
export type ConnectionService = (typeof CONNECTION_SERVICES)[number];

export const CONNECTION_REASONS = ['config', 'dns', 'refused', 'timeout', 'auth', 'tls', 'version', 'protocol', 'other'] as const;
export type ConnectionReason = (typeof CONNECTION_REASONS)[number];

export interface ServiceCheck {
  readonly service: ConnectionService;
  readonly target: string;
  readonly ok: boolean;
  readonly reason: ConnectionReason | null;
  readonly message: string;
  readonly server_version: string | null;
  readonly latency_ms: number | null;
  readonly notes: readonly string[];
}

export interface ConnectionReport {
  readonly ok: boolean;
  readonly services: readonly ServiceCheck[];
}
