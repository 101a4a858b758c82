/**
 * Errors as they cross the bridge (IPC, HTTP, WebSocket): `{code, message}` on the wire, a
 * `RemoteError` with the same code on the other side. The codes mirror src/domain/errors.ts
 * (a test keeps the two lists equal); this file imports nothing so the renderer can use it.
 */
export const WIRE_ERROR_CODES = [
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
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

export interface WireError {
  readonly code: WireErrorCode;
  readonly message: string;
  readonly details?: unknown;
}

/** An error rebuilt from its wire form; `code` is one of WIRE_ERROR_CODES. */
export class RemoteError extends Error {
  readonly code: WireErrorCode;
  readonly details: unknown;
  constructor(code: WireErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'RemoteError';
    this.code = code;
    this.details = details;
  }
}

export function isWireError(v: unknown): v is WireError {
  return !!v && typeof v === 'object' && typeof (v as WireError).code === 'string' && typeof (v as WireError).message === 'string';
}

/** Rebuilds a typed error from anything that came over the wire (unknown codes become INTERNAL). */
export function rebuildWireError(v: unknown): RemoteError {
  if (!isWireError(v)) return new RemoteError('INTERNAL', typeof v === 'string' ? v : 'unknown error from the core');
  const code = (WIRE_ERROR_CODES as readonly string[]).includes(v.code) ? v.code : 'INTERNAL';
  return new RemoteError(code, v.message, v.details);
}

/** The wire form of anything thrown (stack traces never cross). */
export function toWireError(e: unknown): WireError {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const code = String((e as { code: unknown }).code);
    const known = (WIRE_ERROR_CODES as readonly string[]).includes(code) ? (code as WireErrorCode) : 'INTERNAL';
    const details = (e as { details?: unknown }).details;
    return details === undefined ? { code: known, message: String((e as { message: unknown }).message) } : { code: known, message: String((e as { message: unknown }).message), details };
  }
  if (e instanceof Error) return { code: 'INTERNAL', message: e.message };
  return { code: 'INTERNAL', message: String(e) };
}
