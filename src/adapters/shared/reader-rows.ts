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

/** Traits read from their JSON text: marked, with the text as stored, when it is not JSON or not an object of strings. */
export function traitsFromJson(text: string): ReadRow<Record<string, string>> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, raw: text, problem: `traits are not JSON: ${(e as Error).message}` };
  }
  const t = traitsRow(v);
  return t.ok ? t : { ok: false, raw: text, problem: t.problem };
}
