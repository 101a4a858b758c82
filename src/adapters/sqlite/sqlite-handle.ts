/**
 * One adapter's hold on the shared database: retained when the adapter opens, released once
 * when it closes; calls after close are refused with BACKEND_UNAVAILABLE naming the port, and
 * writes through a read-only open with ReadOnlyDatabaseError naming the port.
 */
import { BackendUnavailableError } from '../../domain/errors.ts';
import type { SqliteDatabase } from './sqlite-database.ts';
import { ReadOnlyDatabaseError } from '../shared/sqlite-read-only.ts';

export class SqliteHandle {
  private closed = false;

  constructor(
    readonly sdb: SqliteDatabase,
    private readonly port: string,
  ) {
    sdb.retain();
  }

  /** Throws if this adapter was closed. */
  assertOpen(): void {
    if (this.closed) throw new BackendUnavailableError(`${this.port} is closed`);
  }

  /** Runs a write in the current unit of work (or batch). */
  write<R>(fn: () => R): Promise<R> {
    if (this.closed) return Promise.reject(new BackendUnavailableError(`${this.port} is closed`));
    if (this.sdb.readOnly) return Promise.reject(new ReadOnlyDatabaseError(this.sdb.file, `a write to the ${this.port}`));
    return this.sdb.run(fn);
  }

  /** Runs a read (never opens a write batch). */
  read<R>(fn: () => R): Promise<R> {
    if (this.closed) return Promise.reject(new BackendUnavailableError(`${this.port} is closed`));
    return this.sdb.read(fn);
  }

  /** Releases the database once; later calls are no-ops. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sdb.release();
  }
}
