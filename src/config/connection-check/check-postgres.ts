/**
 * The Postgres check: log in with node-postgres as the adapters do (the URL's user, password,
 * database and sslmode), read the version, then say what the profile's schema holds: the seed's
 * `campaigns` and `tasks`, Chimera's migrations (current, behind, or from a newer build), and
 * whether this user could create what is missing. Nothing is written; one client, closed (or
 * destroyed when time is up) before the check returns.
 */
import pg from 'pg';
import { ConfigError } from '../../domain/errors.ts';
import { loadPgMigrations, PG_MIGRATIONS_TABLE } from '../../adapters/postgres/pg-migrations.ts';
import { DEFAULT_SCHEMA, quoteSchema } from '../../adapters/postgres/pg-pool.ts';
import { planMigrations, type AppliedMigration, type MigrationFile } from '../../adapters/shared/migrations.ts';
import { VersionTooOldError } from './classify.ts';
import { timed, type CheckContext, type Findings } from './context.ts';
import { decideVersion } from './versions.ts';

export interface PostgresTarget {
  readonly url: string;
  readonly schema?: string;
}

/** host:port of a Postgres URL (what the report names), or null when it does not parse. */
export function postgresTarget(url: string): string | null {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return null;
  }
}

/** The URL, checked before anything connects (a ConfigError, never echoing the URL). */
function parseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('the URL is not valid: expected postgres://user:password@host:port/database');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError(`the URL's scheme ${u.protocol}// is not Postgres's: expected postgres://user:password@host:port/database`);
  }
  return u;
}

interface Facts {
  database: string;
  user: string;
  in_recovery: boolean;
  read_only: string;
  schema_exists: boolean;
  campaigns: boolean;
  tasks: boolean;
  migrations_table: boolean;
  public_campaigns: boolean;
  public_tasks: boolean;
  can_create_schema: boolean;
  can_create_in_schema: boolean | null;
}

// $1 the quoted schema (to_regnamespace parses an identifier), $5 the bare name (has_schema_privilege does not)
const FACTS_SQL = `SELECT current_database() AS database, current_user AS "user",
  pg_is_in_recovery() AS in_recovery,
  current_setting('default_transaction_read_only') AS read_only,
  to_regnamespace($1) IS NOT NULL AS schema_exists,
  to_regclass($2) IS NOT NULL AS campaigns,
  to_regclass($3) IS NOT NULL AS tasks,
  to_regclass($4) IS NOT NULL AS migrations_table,
  to_regclass('public.campaigns') IS NOT NULL AS public_campaigns,
  to_regclass('public.tasks') IS NOT NULL AS public_tasks,
  has_database_privilege(current_database(), 'CREATE') AS can_create_schema,
  CASE WHEN to_regnamespace($1) IS NULL THEN NULL ELSE has_schema_privilege($5, 'CREATE') END AS can_create_in_schema`;

/** Connects, reads the version and the schema's state into `found`; returns what the ok message says. */
export async function checkPostgres(t: PostgresTarget, ctx: CheckContext, found: Findings): Promise<string> {
  const url = parseUrl(t.url);
  const schema = t.schema ?? DEFAULT_SCHEMA;
  const quoted = quoteSchema(schema);
  const client = new pg.Client({
    connectionString: url.toString(),
    // ours fires first, with a message that says how far it got
    connectionTimeoutMillis: ctx.timeout_ms + 1000,
    query_timeout: ctx.timeout_ms + 1000,
    application_name: 'chimera-studio-check',
  });
  const con = (client as unknown as { connection?: { once(ev: 'connect', f: () => void): void; stream?: { destroy(): void } } }).connection;
  con?.once('connect', () => {
    ctx.phase = 'answer';
  });
  // an error after the check is over (a server restart) must not crash the process
  client.on('error', () => {});
  const kill = (): void => {
    client.end().catch(() => {});
    con?.stream?.destroy();
  };
  ctx.signal.addEventListener('abort', kill, { once: true });
  try {
    await client.connect();
    ctx.checkpoint();
    const first = await timed(() => client.query<{ version: string }>(`SELECT current_setting('server_version') AS version`));
    found.latency_ms = first.ms;
    found.server_version = String(first.value.rows[0]?.version ?? '') || null;
    const decision = decideVersion('postgres', found.server_version);
    if (!decision.ok) throw new VersionTooOldError(decision.message as string);
    if (decision.message) found.notes.push(decision.message);
    ctx.checkpoint();
    const facts = (await client.query<Facts>(FACTS_SQL, [quoted, `${quoted}.campaigns`, `${quoted}.tasks`, `${quoted}.${PG_MIGRATIONS_TABLE}`, schema])).rows[0] as Facts;
    found.notes.push(...schemaNotes(schema, facts));
    if (facts.migrations_table) {
      ctx.checkpoint();
      const rows = (await client.query<{ version: number; name: string; checksum: string }>(`SELECT version, name, checksum FROM ${quoted}.${PG_MIGRATIONS_TABLE} ORDER BY version`)).rows;
      found.notes.push(migrationNote(schema, rows.map((r) => ({ version: Number(r.version), name: String(r.name), checksum: String(r.checksum) }))));
    }
    if (facts.in_recovery) found.notes.push('the server is a hot standby (in recovery): every write is refused; usable for a read-only (inspect) profile only');
    else if (facts.read_only === 'on') found.notes.push(`default_transaction_read_only is on for ${facts.user} in ${facts.database}: writes are refused unless a transaction asks otherwise`);
    await client.end();
    return `connected to database ${facts.database} as ${facts.user}; PostgreSQL ${found.server_version}`;
  } catch (e) {
    kill();
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', kill);
  }
}

/** What the schema holds of the seed's tables and ours, and whether this user could make ours. */
function schemaNotes(schema: string, f: Facts): string[] {
  const notes: string[] = [];
  if (!f.schema_exists) {
    notes.push(
      `schema ${schema} does not exist yet: the first read-write open creates it and Chimera's tables${f.can_create_schema ? '' : `, but ${f.user} may not create schemas in ${f.database} (CREATE on the database is needed)`}`,
    );
  } else {
    const seed = f.campaigns && f.tasks ? 'are present' : f.campaigns ? 'are not both present (campaigns is, tasks is not)' : f.tasks ? 'are not both present (tasks is, campaigns is not)' : 'are absent';
    notes.push(`schema ${schema}: the seed's tables campaigns and tasks ${seed}`);
    if (!f.migrations_table && f.can_create_in_schema === false) notes.push(`${f.user} may not create tables in schema ${schema}: a read-write open cannot migrate it`);
  }
  if (!f.migrations_table) notes.push(`schema ${schema} has no Chimera migrations (no ${PG_MIGRATIONS_TABLE} table): a read-write open migrates it; a read-only profile refuses it`);
  if (schema !== 'public' && !(f.campaigns && f.tasks) && f.public_campaigns && f.public_tasks) notes.push(`campaigns and tasks exist in schema public (not ${schema})`);
  return notes;
}

/** How the schema's recorded migrations compare with this build's (the migration runner's own plan, so the verdicts agree). */
function migrationNote(schema: string, applied: readonly AppliedMigration[]): string {
  let shipped: MigrationFile[];
  try {
    shipped = loadPgMigrations();
  } catch (e) {
    return `schema ${schema} records ${applied.length} Chimera migration(s); this build's could not be read to compare (${(e as Error).message})`;
  }
  try {
    const pending = planMigrations(`schema ${schema}`, shipped, applied, 'schema');
    if (pending.length) return `schema ${schema}: Chimera's migrations are behind (${applied.length} of ${shipped.length}); a read-write open applies ${pending.map((m) => `${m.version}_${m.name}`).join(', ')}`;
    return `schema ${schema}: Chimera's migrations are current (${applied.length} of ${shipped.length})`;
  } catch (e) {
    // edited, newer or inconsistent: what the runner would refuse, in its words
    return (e as Error).message;
  }
}
