/** Checks of reader rows that have no domain schema of their own. */
import type { ReadRow } from '../../ports/readers.ts';

/** A persona's cached traits: an object of strings, or the raw value marked with what is wrong. */
export function traitsRow(raw: unknown): ReadRow<Record<string, string>> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, raw, problem: `traits are ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}, not an object of strings` };
  }
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') return { ok: false, raw, problem: `trait ${JSON.stringify(k)} is ${typeof v}, not a string` };
  }
  return { ok: true, value: { ...(raw as Record<string, string>) } };
}
