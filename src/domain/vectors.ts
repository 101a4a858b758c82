/**
 * Vector arithmetic and the rule a stored vector obeys (finite, of the index's dimensions):
 * pure functions, shared by the port guards, the embedders and the memory adapters.
 */
import { ModelMismatchError, ValidationError } from './errors.ts';

/**
 * Σ a[i]·b[i] with four accumulators (independent chains the CPU can overlap, about 2× one),
 * combined as (s0 + s1) + (s2 + s3). Every adapter scores with this one function (the exact
 * adapter's scan inlines the same scheme), so they agree to the last bit.
 */
export function dot(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += (a[i] as number) * (b[i] as number);
    s1 += (a[i + 1] as number) * (b[i + 1] as number);
    s2 += (a[i + 2] as number) * (b[i + 2] as number);
    s3 += (a[i + 3] as number) * (b[i + 3] as number);
  }
  for (; i < n; i++) s0 += (a[i] as number) * (b[i] as number);
  return s0 + s1 + (s2 + s3);
}

/** Scales v to unit length in place (a zero vector stays zero); returns v. */
export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) / n;
  return v;
}

/** Refuses a vector that is not finite or has the wrong length. */
export function checkVector(v: Float32Array, dimensions: number, what: string): void {
  if (!(v instanceof Float32Array)) throw new ValidationError(`${what}: vector must be a Float32Array`);
  if (v.length !== dimensions) {
    throw new ModelMismatchError(`${what}: vector has ${v.length} dimensions, the index holds ${dimensions}`);
  }
  // Σ v[i]² is finite exactly when every v[i] is (a float32 squared cannot overflow a double,
  // and no two non-negative squares cancel); only a bad vector is scanned for the culprit
  if (Number.isFinite(dot(v, v))) return;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new ValidationError(`${what}: vector has a non-finite value at ${i}`);
  }
}
