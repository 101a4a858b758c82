/** The Postgres adapters (README.md beside this file): what the composition root imports. */
export { openPostgres, type PostgresPorts } from './pg-open.ts';
export { migratePostgres, loadPgMigrations, PG_MIGRATIONS_DIR, PG_MIGRATIONS_TABLE, type MigrationOutcome } from './pg-migrations.ts';
export { PgPool, acquirePgPool, describePgError, pgEndpoint, redactPgUrl, DEFAULT_SCHEMA, type PgConnectOptions, type PgSsl } from './pg-pool.ts';
export { PgStateStore, MAX_UNIT_RUNS } from './pg-state-store.ts';
export { PgRunLog } from './pg-run-log.ts';
export { PgQueue } from './pg-queue.ts';
export { PgPersonaCache } from './pg-persona-cache.ts';
export { pgReaders, openPgReaders } from './pg-readers.ts';
export { openPgCopyProgress, type PgCopyProgress } from './pg-copy-progress.ts';
