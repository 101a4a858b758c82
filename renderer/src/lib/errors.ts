/** What a refused call says to a person: the core's message in plain words, without raw error codes or full ids. */
import { RemoteError } from '../../../src/shared/errors.ts';
import { shortIds } from './text.ts';

/** Why a change was refused as a conflict (the core sends it in the error's details). */
export type ConflictKind = 'stale' | 'decided' | 'already' | 'status';

export interface Explained {
  /** A conflict (nothing was written; show a banner and re-read) or another failure. */
  readonly conflict: ConflictKind | null;
  /** One short line to lead with. */
  readonly title: string;
  /** The core's message, ids shortened. */
  readonly text: string;
}

const TITLES: Record<string, string> = {
  VALIDATION: 'Check what was entered',
  NOT_FOUND: 'It is no longer there',
  ILLEGAL_TRANSITION: 'That cannot be done in its current state',
  DUPLICATE: 'It exists already',
  BACKEND_UNAVAILABLE: 'The storage is not available',
  MODEL_MISSING: 'The embedding model is missing',
  MODEL_MISMATCH: 'The memories were embedded by another model',
  READ_ONLY: 'Read-only — nothing was written',
};

export function explainError(e: unknown): Explained {
  const text = shortIds(e instanceof Error ? e.message : String(e));
  if (!(e instanceof RemoteError)) return { conflict: null, title: 'Something went wrong', text };
  if (e.code === 'CONFLICT') {
    const reason = (e.details as { reason?: string } | undefined)?.reason;
    const conflict: ConflictKind = reason === 'decided' || reason === 'already' || reason === 'status' ? reason : 'stale';
    const title =
      conflict === 'decided' ? 'Decided elsewhere — nothing was written.' : conflict === 'already' ? 'Already done elsewhere — nothing was written.' : 'Conflict — nothing was written.';
    // the title says it already
    return { conflict, title, text: text.replace(/;\s*nothing was written(?=\s*—|\s*$)/, '') };
  }
  return { conflict: null, title: TITLES[e.code] ?? 'Something went wrong', text };
}
