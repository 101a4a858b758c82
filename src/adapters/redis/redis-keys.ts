/**
 * The key layout (README.md in this folder has the table). A queue of space S named N lives at
 * the seed's key when N is one of S's own names (`task_queue:<cid>` in the task space,
 * `review_queue:<cid>` in the review space) and at `S:N` otherwise, so the two queue objects of
 * one store never see each other's queues. Its auxiliary keys put the list's key in a hash tag,
 * `{<list key>}:<part>`, which hashes to the list's own cluster slot, so every script touches
 * one slot. Every key starts with the prefix (default '').
 */
import { ValidationError } from '../../domain/errors.ts';

/** The auxiliary parts of a queue, in the order the scripts take them as KEYS[2..]. */
export const QUEUE_PARTS = ['meta', 'held', 'delayed', 'leases', 'lease', 'seq', 'dead'] as const;
export type QueuePart = (typeof QUEUE_PARTS)[number];

/** A queue's keys: the list (KEYS[1]) and its parts. */
export interface QueueKeys {
  readonly list: string;
  readonly part: Readonly<Record<QueuePart, string>>;
  /** [list, ...parts] as the scripts take them. */
  readonly all: readonly string[];
}

/** Refuses braces (they would make a hash tag of their own and split a queue's keys across slots). */
export function checkKeyPart(what: string, s: string): string {
  if (/[{}]/.test(s)) throw new ValidationError(`invalid ${what} ${JSON.stringify(s)}: must not contain { or } (Redis hash-tag braces)`);
  return s;
}

/** The name a space owns at the seed's key: `task` → `task_queue:`. */
export const homePrefix = (space: string): string => `${space}_queue:`;

export function queueKeys(prefix: string, space: string, name: string): QueueKeys {
  checkKeyPart('queue name', name);
  const list = prefix + (name.startsWith(homePrefix(space)) ? name : `${space}:${name}`);
  const part = Object.fromEntries(QUEUE_PARTS.map((p) => [p, `{${list}}:${p}`])) as Record<QueuePart, string>;
  return { list, part, all: [list, ...QUEUE_PARTS.map((p) => part[p])] };
}

/** Escapes glob characters so a prefix matches only itself in SCAN MATCH. */
export const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/**
 * One SCAN pattern that covers every key of every space's queues under `prefix` (the lists and
 * the `{…}` hash-tagged parts, which start with `{` + prefix): everything when the prefix is ''
 * (Redis skips matching for a bare `*`), else every key holding the prefix. A superset: the keys
 * are told apart here, with queueKeyOf.
 */
export function queueScanPattern(prefix: string): string {
  return prefix === '' ? '*' : `*${globEscape(prefix)}*`;
}

/**
 * What `key` is to the queues of `space`: its list (named like one of the space's queues) or its
 * meta hash, and the queue's name; null for any other key. Which Redis type it is, is not known here.
 */
export function queueKeyOf(prefix: string, space: string, key: string): { queue: string; part: 'list' | 'meta' } | null {
  const meta = key.startsWith('{') && key.endsWith('}:meta');
  if (!meta && key.startsWith('{')) return null;
  const queue = queueNameOf(prefix, space, key);
  return queue === null || queue === '' ? null : { queue, part: meta ? 'meta' : 'list' };
}

/** The queue name a list key (or a meta key) of `space` stands for, or null when it is not one. */
export function queueNameOf(prefix: string, space: string, key: string): string | null {
  let k = key;
  if (k.startsWith('{') && k.endsWith('}:meta')) k = k.slice(1, -'}:meta'.length);
  if (!k.startsWith(prefix)) return null;
  k = k.slice(prefix.length);
  if (k.startsWith(homePrefix(space))) return k;
  if (k.startsWith(`${space}:`)) return k.slice(space.length + 1);
  return null;
}

/** The seed's persona-cache hash, and the marker that stands for a persona cached with no traits (Redis keeps no empty hash). */
export function personaKeys(prefix: string, persona_id: string): { hash: string; empty: string } {
  checkKeyPart('persona id', persona_id);
  const hash = `${prefix}persona_cache:${persona_id}`;
  return { hash, empty: `{${hash}}:empty` };
}

export function personaPatterns(prefix: string): { hashes: string; empties: string } {
  const p = globEscape(prefix);
  return { hashes: `${p}persona_cache:*`, empties: `{${p}persona_cache:*}:empty` };
}

/** The persona id of a cache key (hash or empty marker), or null. */
export function personaIdOf(prefix: string, key: string): string | null {
  let k = key;
  if (k.startsWith('{') && k.endsWith('}:empty')) k = k.slice(1, -'}:empty'.length);
  const head = `${prefix}persona_cache:`;
  return k.startsWith(head) ? k.slice(head.length) : null;
}
