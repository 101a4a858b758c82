/**
 * Connections to Postgres: one `pg.Pool` per URL and schema (shared by the ports of a process
 * through `acquirePgPool`, reference-counted), with the session settings every connection
 * starts with (search_path = the Chimera schema, statement and idle-in-transaction timeouts,
 * application_name, DateStyle ISO), TLS from the URL's `sslmode` or an explicit `ssl` option,
 * and type parsers that never go through a lossy Date (timestamps and JSON come back as text).
 *
 * Errors that mean "the server cannot be used" (refused, unreachable, authentication, database
 * missing, a dropped connection, a statement timeout) become BackendUnavailableError naming
 * host, port, database and schema, never the password. A connection that dies while idle is
 * reported on the pool's 'error' event, which is handled here (the process does not crash);
 * the pool replaces it on the next checkout.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { BackendUnavailableError, ChimeraError, ConfigError, ReadOnlyError, ValidationError } from '../../domain/errors.ts';
import { redactPassword } from '../../util/redact-url.ts';

/** TLS for the connection. Without it the URL's `sslmode` (if any) applies. */
export interface PgSsl {
  /** 'require': encrypted, certificate not checked; 'verify-ca' / 'verify-full': checked against `caFile` (or the system's CAs). */
  readonly mode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  /** A PEM file of the CA(s) that signed the server's certificate. */
  readonly caFile?: string;
}

/** How to reach one Chimera namespace on Postgres. */
export interface PgConnectOptions {
  /** postgres://user:password@host:port/database[?sslmode=…] */
  readonly url: string;
  /** The Postgres schema holding Chimera's tables (created by the migrations); default 'chimera'. */
  readonly schema?: string;
  /** statement_timeout of every connection, ms (0: none); default 30 000. */
  readonly statementTimeoutMs?: number;
  /** idle_in_transaction_session_timeout, ms (0: none); default 60 000. */
  readonly idleInTransactionTimeoutMs?: number;
  /** Connect timeout, ms; default 10 000. */
  readonly connectionTimeoutMs?: number;
  /** application_name seen in pg_stat_activity; default 'chimera-studio'. */
  readonly applicationName?: string;
  readonly ssl?: PgSsl;
  /** Connections in the pool; default 10. */
  readonly poolMax?: number;
  /** How long a connection may sit idle in the pool before it is closed, ms; default 10 000. */
  readonly idleTimeoutMs?: number;
  /**
   * Every session starts with default_transaction_read_only = on: the server refuses any write
   * (SQLSTATE 25006), which comes back as a ReadOnlyError naming the endpoint. openPostgres does
   * not migrate such a pool.
   */
  readonly readOnly?: boolean;
}

export const DEFAULT_SCHEMA = 'chimera';
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A schema name as a quoted identifier; ConfigError for a name that is not [A-Za-z_][A-Za-z0-9_]*. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`invalid Postgres schema name ${JSON.stringify(schema)}: use letters, digits and _ (at most 63, not starting with a digit)`);
  }
  return `"${schema}"`;
}

/** `host:port/database` of a URL, for messages (no user, no password). */
export function pgEndpoint(url: string): string {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)';
    return `${u.hostname || 'localhost'}:${u.port || '5432'}/${db}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** The URL with its password replaced by ***. */
export const redactPgUrl = redactPassword;

// timestamps, dates and JSON as the server's text (the adapters convert them exactly); int8 as a number
const TEXT_OIDS = new Set([1082, 1114, 1184, 114, 3802]);
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (TEXT_OIDS.has(oid)) return (v: string) => v;
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  },
};

/** Connection-level error codes: the server or the connection went away (SQLSTATE classes 08, 57P0x). */
const LOST = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/** Whether `e` says the connection was lost or never made (the work on it rolled back). */
export function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && LOST.has(code)) return true;
  const msg = e instanceof Error ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|terminating connection/i.test(msg);
}

/** Whether the backend asks for the unit to be run again (serialization failure, deadlock). */
export function isRetryableConflict(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/**
 * `e` as a typed error naming where it happened: server-level failures become
 * BackendUnavailableError; a ChimeraError passes through; anything else is returned as it is.
 */
export function describePgError(e: unknown, where: string): unknown {
  if (e instanceof ChimeraError) return e;
  const err = e as { code?: string; message?: string } | null;
  const code = err?.code;
  const msg = err?.message ?? String(e);
  const fail = (what: string) => new BackendUnavailableError(`Postgres at ${where}: ${what}`, { endpoint: where, code: code ?? null });
  if (code === 'ECONNREFUSED') return fail(`connection refused (is the server running and listening there?)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail(`host not found`);
  if (code === '28P01' || code === '28000') return fail(`authentication failed (${msg})`);
  if (code === '3D000') return fail(`the database does not exist (${msg})`);
  if (code === '57014') return fail(`a statement was cancelled by the statement timeout (${msg})`);
  if (code === '25P03') return fail(`the transaction was ended by the idle-in-transaction timeout (${msg})`);
  if (isConnectionError(e)) return fail(`the connection was lost or could not be made (${msg})`);
  // a write in a read-only transaction (a read-only pool, or a hot standby)
  if (code === '25006') return new ReadOnlyError(`write refused: Postgres at ${where} is open read-only for this profile (${msg}); nothing was written`, { endpoint: where, refused: msg });
  // data exceptions: a value the column cannot hold (jsonb refuses \u0000 in strings, varchar(20) a longer status)
  if (typeof code === 'string' && code.startsWith('22')) return new ValidationError(`Postgres at ${where} refused a value: ${msg}`, { endpoint: where, code });
  return e;
}

/** The TLS settings for pg's config, from an explicit option (null: leave it to the URL). */
function sslConfig(ssl: PgSsl | undefined): pg.ClientConfig['ssl'] | null {
  if (!ssl) return null;
  if (ssl.mode === 'disable') return false;
  let ca: string | undefined;
  if (ssl.caFile) {
    try {
      ca = readFileSync(ssl.caFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`Postgres ssl.caFile ${ssl.caFile} cannot be read: ${(e as Error).message}`);
    }
  }
  if (ssl.mode === 'require') return { rejectUnauthorized: false, ...(ca ? { ca } : {}) };
  return {
    rejectUnauthorized: true,
    ...(ca ? { ca } : {}),
    // verify-ca: the chain is checked, the host name is not
    ...(ssl.mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

/** The URL without the TLS parameters an explicit `ssl` option replaces (pg lets the URL's win). */
function withoutSslParams(url: string): string {
  const u = new URL(url);
  for (const k of ['sslmode', 'ssl', 'sslcert', 'sslkey', 'sslrootcert', 'uselibpqcompat']) u.searchParams.delete(k);
  return u.toString();
}

/** One pool on one schema. `release()` gives back the reference it was acquired with. */
export class PgPool {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** `host:port/database (schema s)` for messages. */
  readonly where: string;
  /** Every session is read-only (PgConnectOptions.readOnly). */
  readonly readOnly: boolean;
  /** The last error an idle connection reported (the pool replaced that connection). */
  lastIdleError: Error | null = null;
  private refs = 1;
  private ended = false;
  private readonly onEnd: () => void;

  constructor(opts: PgConnectOptions, onEnd: () => void = () => {}) {
    this.schema = opts.schema ?? DEFAULT_SCHEMA;
    const quoted = quoteSchema(this.schema);
    this.where = `${pgEndpoint(opts.url)} (schema ${this.schema})`;
    this.readOnly = opts.readOnly ?? false;
    this.onEnd = onEnd;
    let connectionString: string;
    try {
      connectionString = opts.ssl ? withoutSslParams(opts.url) : new URL(opts.url).toString();
    } catch {
      throw new ConfigError(`invalid Postgres URL ${redactPgUrl(opts.url)}: expected postgres://user:password@host:port/database`);
    }
    const ssl = sslConfig(opts.ssl);
    this.pool = new pg.Pool({
      connectionString,
      max: opts.poolMax ?? 10,
      connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
      idleTimeoutMillis: opts.idleTimeoutMs ?? 10_000,
      allowExitOnIdle: true,
      statement_timeout: opts.statementTimeoutMs ?? 30_000,
      idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? 60_000,
      application_name: opts.applicationName ?? 'chimera-studio',
      options: `-c search_path=${quoted} -c DateStyle=ISO,MDY${opts.readOnly ? ' -c default_transaction_read_only=on' : ''}`,
      types: pgTypes,
      ...(ssl !== null ? { ssl } : {}),
    });
    // an idle connection that dies (server restart, pg_terminate_backend) is reported here; without a listener the process would crash
    this.pool.on('error', (e) => {
      this.lastIdleError = e;
    });
  }

  /** One statement on any connection of the pool; errors come back described (BackendUnavailableError for server-level ones). */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>> {
    this.assertOpen();
    try {
      return await this.pool.query<R>(text, values as unknown[]);
    } catch (e) {
      throw describePgError(e, this.where);
    }
  }

  /** A connection of its own (for a transaction); the caller releases it (with the error if it broke). */
  async connect(): Promise<pg.PoolClient> {
    this.assertOpen();
    try {
      return await this.pool.connect();
    } catch (e) {
      throw describePgError(e, this.where);
    }
  }

  /** One more user of this pool (shared pools). */
  retain(): this {
    this.refs += 1;
    return this;
  }

  /** Gives back one reference; the last one ends the pool. */
  async release(): Promise<void> {
    if (this.ended) return;
    this.refs -= 1;
    if (this.refs > 0) return;
    this.ended = true;
    this.onEnd();
    await this.pool.end();
  }

  get closed(): boolean {
    return this.ended;
  }

  private assertOpen(): void {
    if (this.ended) throw new Error(`Postgres pool for ${this.where} is closed`);
  }
}

const shared = new Map<string, PgPool>();

/**
 * The process's pool for these options (one per URL, schema and settings), made on first use;
 * each call takes a reference that `release()` gives back.
 */
export function acquirePgPool(opts: PgConnectOptions): PgPool {
  const key = JSON.stringify([opts.url, opts.schema ?? DEFAULT_SCHEMA, opts.statementTimeoutMs, opts.idleInTransactionTimeoutMs, opts.connectionTimeoutMs, opts.applicationName, opts.ssl, opts.poolMax, opts.readOnly ?? false, opts.idleTimeoutMs]);
  const have = shared.get(key);
  if (have && !have.closed) return have.retain();
  const p = new PgPool(opts, () => {
    if (shared.get(key) === p) shared.delete(key);
  });
  shared.set(key, p);
  return p;
}
