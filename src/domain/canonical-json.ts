/**
 * Canonical JSON: object keys sorted, no whitespace. Hashes (audit chain, event log) are taken
 * over this form so they do not depend on property insertion order, which differs between
 * backends that rebuild objects from rows.
 */
export function canonicalJson(value: unknown): string {
  const sorted = sortedForJson(value);
  return sorted === UNSORTABLE ? canonicalJsonSlow(value) : (JSON.stringify(sorted) ?? 'null');
}

/** What `sortedForJson` returns for a value it cannot copy into canonical key order. */
export const UNSORTABLE: unique symbol = Symbol('unsortable');
const INTEGER_KEY = /^(0|[1-9][0-9]*)$/;

/**
 * A copy with every object's keys inserted in sorted order, so the native JSON.stringify
 * writes canonical JSON. Objects with integer-like keys cannot be copied that way (engines
 * put those first, in numeric order), and toJSON would change the output: both fall back.
 */
export function sortedForJson(v: unknown): unknown {
  return isCanonical(v, 0) ? v : sortKeys(v);
}

/**
 * True when JSON.stringify(v) already writes canonical JSON: every object's own keys in sorted
 * order, none integer-like, no toJSON, no values JSON would drop. Most records are built that
 * way, and then no sorted copy is needed. (Deeply nested values take the copying path.)
 */
function isCanonical(v: unknown, depth: number): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (depth > 8) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x === undefined || typeof x === 'function' || typeof x === 'symbol' || !isCanonical(x, depth + 1)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  let prev: string | null = null;
  for (const k in v) {
    if (prev !== null && !(prev < k)) return false;
    if (INTEGER_KEY.test(k)) return false;
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol' || !isCanonical(x, depth + 1)) return false;
    prev = k;
  }
  return true;
}

function sortKeys(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = sortKeys(v[i]);
      if (x === UNSORTABLE) return UNSORTABLE;
      out[i] = x;
    }
    return out;
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return UNSORTABLE;
  const keys = Object.keys(v).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (INTEGER_KEY.test(k)) return UNSORTABLE;
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    const y = sortKeys(x);
    if (y === UNSORTABLE) return UNSORTABLE;
    out[k] = y;
  }
  return out;
}

/** The reference implementation (and the fallback): writes keys in sorted order by hand. */
export function canonicalJsonSlow(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJsonSlow(value[i]);
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + canonicalJsonSlow(v);
    first = false;
  }
  return out + '}';
}
