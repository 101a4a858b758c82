/**
 * A queue element: the payload's own JSON, as the seed's services write and read it, with one
 * extra field at the end, `"_chimera_id": "<item id>"`, that a seed reader ignores. A payload that
 * is not a JSON object (an array, a string, a number) is wrapped as
 * `{"_chimera_id": …, "_chimera_value": <payload>}`. Attempts and times are not in the element:
 * they live in the queue's meta hash, so the element never changes while it is queued.
 *
 * An element without `_chimera_id` was pushed by a foreign producer (`LPUSH task_queue:<cid>
 * <task json>`); its id is its `task_id` field, else its `id` field (non-empty strings), else
 * `sha1:<SHA-1 of the element>`. The claim script adopts it under that id (README.md).
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../domain/errors.ts';

export const ID_FIELD = '_chimera_id';
export const VALUE_FIELD = '_chimera_value';

/** The element for an item. */
export function encodeElement(id: string, payload: unknown): string {
  const body = JSON.stringify(payload);
  if (body === undefined) throw new ValidationError(`queue item ${id}: payload is not JSON (undefined, a function or a symbol)`);
  const tail = `"${ID_FIELD}":${JSON.stringify(id)}`;
  if (body.startsWith('{')) {
    const p = payload as Record<string, unknown>;
    if (ID_FIELD in p || VALUE_FIELD in p) throw new ValidationError(`queue item ${id}: payload must not have the fields ${ID_FIELD} or ${VALUE_FIELD} (the queue's own)`);
    return body === '{}' ? `{${tail}}` : `${body.slice(0, -1)},${tail}}`;
  }
  return `{${tail},"${VALUE_FIELD}":${body}}`;
}

/** What an element holds: the id (ours, or derived for a foreign element) and the payload; or why it is unreadable. */
export type Decoded = { ok: true; id: string; payload: unknown; foreign: boolean } | { ok: false; problem: string };

export function decodeElement(el: string): Decoded {
  let v: unknown;
  try {
    v = JSON.parse(el);
  } catch (e) {
    return { ok: false, problem: `not JSON (${(e as Error).message})` };
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && ID_FIELD in v) {
    const o = { ...(v as Record<string, unknown>) };
    const id = o[ID_FIELD];
    if (typeof id !== 'string') return { ok: false, problem: `${ID_FIELD} is ${typeof id}, not a string` };
    delete o[ID_FIELD];
    const keys = Object.keys(o);
    const payload = keys.length === 1 && keys[0] === VALUE_FIELD ? o[VALUE_FIELD] : o;
    return { ok: true, id, payload, foreign: false };
  }
  return { ok: true, id: foreignId(v, el), payload: v, foreign: true };
}

/** The id a foreign element is adopted under (the claim script derives the same, unless that id is taken). */
export function foreignId(v: unknown, el: string): string {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.task_id === 'string' && o.task_id !== '') return o.task_id;
    if (typeof o.id === 'string' && o.id !== '') return o.id;
  }
  return `sha1:${createHash('sha1').update(el).digest('hex')}`;
}

/** Item metadata as the meta hash holds it: "attempts:enqueued_at_ms:available_at_ms:seq". */
export interface Meta {
  readonly attempts: number;
  readonly enqueued_at_ms: number;
  readonly available_at_ms: number;
  readonly seq: number;
}

export function parseMeta(s: string | null | undefined): Meta | null {
  if (typeof s !== 'string') return null;
  const m = /^(\d+):(-?\d+):(-?\d+):(\d+)$/.exec(s);
  if (!m) return null;
  return { attempts: Number(m[1]), enqueued_at_ms: Number(m[2]), available_at_ms: Number(m[3]), seq: Number(m[4]) };
}
