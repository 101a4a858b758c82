/**
 * Reading storage errors: the part every backend shares. A backend gives the meaning of its
 * driver's codes; a ConflictError is always a conflict, the domain's own errors (a bad request,
 * a missing row) are not storage errors, and a BACKEND_UNAVAILABLE or BAD_DATABASE error is read
 * by the driver code it carries in `details.code`, else it is fatal.
 */
import { ChimeraError, ConflictError } from '../../domain/errors.ts';
import type { ErrorClass } from './types.ts';

/** File-system codes (Node's errno names) any file-backed store can meet. */
const ERRNO: Readonly<Record<string, ErrorClass>> = {
  ENOSPC: 'disk_full',
  EDQUOT: 'disk_full',
  EACCES: 'auth',
  EPERM: 'auth',
  EROFS: 'auth',
  EBUSY: 'transient',
  EAGAIN: 'transient',
  EIO: 'fatal',
};

function codeOf(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/**
 * A classifier from a backend's code table: `driver(code)` says what one of its driver's codes
 * means (undefined: not the driver's).
 */
export function classifierFor(driver: (code: string) => ErrorClass | undefined): (e: unknown) => ErrorClass | null {
  const byCode = (code: string | null): ErrorClass | undefined => (code === null ? undefined : (driver(code) ?? ERRNO[code]));
  return (e) => {
    if (e instanceof ConflictError) return 'conflict';
    if (e instanceof ChimeraError) {
      if (e.code !== 'BACKEND_UNAVAILABLE' && e.code !== 'BAD_DATABASE') return null;
      return byCode(codeOf(e.details)) ?? byCode(codeOf((e as { cause?: unknown }).cause)) ?? 'fatal';
    }
    return byCode(codeOf(e)) ?? null;
  };
}
