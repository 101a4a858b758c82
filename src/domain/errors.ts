/**
 * Typed errors. Every error that crosses a boundary (port, CLI, IPC, HTTP) carries a stable
 * `code` so the other side can rebuild it; messages say what was wrong and where.
 */

/**
 * Every error code. src/shared/errors.ts keeps a copy for the wire (the renderer cannot import
 * the domain); test/ui/contract.test.ts keeps the two lists equal.
 */
export const ERROR_CODES = [
  'VALIDATION',
  'CONFLICT',
  'ILLEGAL_TRANSITION',
  'NOT_FOUND',
  'DUPLICATE',
  'BACKEND_UNAVAILABLE',
  'BAD_DATABASE',
  'MODEL_MISMATCH',
  'MODEL_MISSING',
  'CONFIG',
  'AUDIT_CHAIN_BROKEN',
  'READ_ONLY',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface SerializedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: unknown;
}

export class ChimeraError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
  toJSON(): SerializedError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Input did not match its schema; `issues` lists every problem with its path. */
export class ValidationError extends ChimeraError {
  constructor(message: string, details?: unknown) {
    super('VALIDATION', message, details);
  }
}

/** A compare-and-set lost: the row changed since the actor read it. Nothing was written. */
export class ConflictError extends ChimeraError {
  constructor(message: string, details?: { entity: string; id: string; expected?: unknown; actual?: unknown }) {
    super('CONFLICT', message, details);
  }

  /** The campaign's state_version is not the one the actor read. */
  static staleVersion(id: string, expected: number, actual: number): ConflictError {
    return new ConflictError(`campaign ${id}: state_version is ${actual}, expected ${expected}`, { entity: 'campaign', id, expected, actual });
  }

  /** The task's status is not the one the actor expected. */
  static taskStatus(id: string, expected: string, actual: string): ConflictError {
    return new ConflictError(`task ${id}: status is ${actual}, expected ${expected}`, { entity: 'task', id, expected, actual });
  }
}

/** A status change that the status machine does not allow. Nothing was written. */
export class IllegalTransitionError extends ChimeraError {
  constructor(entity: string, id: string, from: string, to: string) {
    super('ILLEGAL_TRANSITION', `${entity} ${id}: illegal transition ${from} → ${to}`, { entity, id, from, to });
  }
}

export class NotFoundError extends ChimeraError {
  constructor(entity: string, id: string) {
    super('NOT_FOUND', `${entity} ${id} not found`, { entity, id });
  }
}

export class DuplicateError extends ChimeraError {
  constructor(entity: string, id: string) {
    super('DUPLICATE', `${entity} ${id} already exists`, { entity, id });
  }
}

/** The backend could not be reached or refused the connection. */
export class BackendUnavailableError extends ChimeraError {
  constructor(message: string, details?: unknown) {
    super('BACKEND_UNAVAILABLE', message, details);
  }
}

/** Vectors from two embedding models would be mixed in one index. */
export class ModelMismatchError extends ChimeraError {
  constructor(message: string, details?: unknown) {
    super('MODEL_MISMATCH', message, details);
  }
}

/** A database file that cannot be used as it is (not SQLite, truncated, another app's, edited or newer migrations). Nothing was written to it. */
export class BadDatabaseError extends ChimeraError {
  constructor(message: string, details?: unknown) {
    super('BAD_DATABASE', message, details);
  }
}

/** The embedding model's files are not in the local model folder and downloads are off; the message names the folder and how to get them. */
export class ModelMissingError extends ChimeraError {
  constructor(message: string, details?: { model: string; folder: string; missing: string[] }) {
    super('MODEL_MISSING', message, details);
  }
}

/**
 * A write refused because the store is open read-only (`--read-only`, `read_only: true` in a
 * profile, `chimera inspect`). Nothing was written; `details` names the endpoint and what was refused.
 */
export class ReadOnlyError extends ChimeraError {
  constructor(message: string, details?: { endpoint: string; refused: string; key?: string }) {
    super('READ_ONLY', message, details);
  }
}

export class ConfigError extends ChimeraError {
  constructor(message: string, details?: unknown) {
    super('CONFIG', message, details);
  }
}

/** Rebuilds a typed error from its serialized form (used across IPC and HTTP). */
export function rebuildError(e: SerializedError): ChimeraError {
  const code = (ERROR_CODES as readonly string[]).includes(e.code) ? e.code : 'INTERNAL';
  const err = new ChimeraError(code, e.message, e.details);
  return err;
}

/** Turns anything thrown into the serialized form, hiding stacks. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof ChimeraError) return e.toJSON();
  if (e instanceof Error) return { code: 'INTERNAL', message: e.message };
  return { code: 'INTERNAL', message: String(e) };
}
