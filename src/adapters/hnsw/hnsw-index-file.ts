/**
 * Saving and checking the HNSW index file. hnswlib's native reader trusts the file: a
 * truncated or edited one can make it allocate absurd amounts or read out of bounds, which
 * takes the whole process down. So nothing reaches the reader unless the sidecar
 * (`index.json`) vouches for the file — same size and SHA-256 as when it was written, same
 * rows generation, model and parameters — and hnswlib's own header agrees with it.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

const SIDECAR_FORMAT = 1;
/** hnswlib's header: 6 size_t, 2 int32, 3 size_t, 1 double, 1 size_t (hnswalg.h saveIndex). */
const HEADER_BYTES = 6 * 8 + 2 * 4 + 3 * 8 + 8 + 8;

export const SidecarSchema = z.strictObject({
  format: z.literal(SIDECAR_FORMAT),
  generation: z.int().min(0),
  model_id: z.string().min(1),
  dimensions: z.int().min(1),
  M: z.int().min(2),
  ef_construction: z.int().min(1),
  /** Points in the file, deleted ones included (hnswlib's cur_element_count). */
  elements: z.int().min(0),
  /** Labels of all-zero vectors, which are kept out of the graph. */
  zero_labels: z.array(z.int().min(0)),
  bytes: z.int().min(HEADER_BYTES),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Sidecar = z.infer<typeof SidecarSchema>;

/** What the index must match to be used. */
export interface IndexExpectation {
  readonly generation: number;
  readonly model_id: string;
  readonly dimensions: number;
  readonly M: number;
  readonly ef_construction: number;
}

/** SHA-256 of a file, read in chunks. */
export function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Writes the sidecar for an index file that was just written (atomically, via a temp file). */
export function writeSidecar(sidecarPath: string, indexPath: string, e: IndexExpectation & { elements: number; zero_labels: number[] }): void {
  const side: Sidecar = {
    format: SIDECAR_FORMAT,
    generation: e.generation,
    model_id: e.model_id,
    dimensions: e.dimensions,
    M: e.M,
    ef_construction: e.ef_construction,
    elements: e.elements,
    zero_labels: e.zero_labels,
    bytes: statSync(indexPath).size,
    sha256: sha256File(indexPath),
  };
  writeFileSync(`${sidecarPath}.tmp`, JSON.stringify(side, null, 2) + '\n');
  renameSync(`${sidecarPath}.tmp`, sidecarPath);
}

function readHeader(path: string): DataView | null {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
    return n === HEADER_BYTES ? new DataView(buf.buffer, buf.byteOffset, HEADER_BYTES) : null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Why the index file cannot be loaded as it is ({ reason: 'missing' | 'stale: …' | 'corrupt: …' }),
 * or its sidecar when it is safe to hand to hnswlib. Never throws.
 */
export function checkIndexFile(indexPath: string, sidecarPath: string, want: IndexExpectation): { reason: string } | { sidecar: Sidecar } {
  const r = check(indexPath, sidecarPath, want);
  return typeof r === 'string' ? { reason: r } : { sidecar: r };
}

function check(indexPath: string, sidecarPath: string, want: IndexExpectation): string | Sidecar {
  try {
    let size: number;
    try {
      size = statSync(indexPath).size;
    } catch {
      return 'missing';
    }
    let side: Sidecar;
    try {
      const r = SidecarSchema.safeParse(JSON.parse(readFileSync(sidecarPath, 'utf8')));
      if (!r.success) return 'corrupt: its sidecar index.json is not valid';
      side = r.data;
    } catch {
      return 'stale: it has no readable sidecar index.json';
    }
    if (side.generation !== want.generation) return `stale: it reflects rows generation ${side.generation}, the rows are at ${want.generation}`;
    if (side.model_id !== want.model_id || side.dimensions !== want.dimensions) return `stale: it holds ${side.model_id} (${side.dimensions} dims)`;
    if (side.M !== want.M || side.ef_construction !== want.ef_construction) {
      return `stale: it was built with M=${side.M}, ef_construction=${side.ef_construction}`;
    }
    if (size !== side.bytes) return `corrupt: it has ${size} bytes, ${side.bytes} were written`;
    const h = readHeader(indexPath);
    if (!h) return 'corrupt: its header is truncated';
    const u = (off: number) => Number(h.getBigUint64(off, true));
    const maxElements = u(8);
    const cur = u(16);
    const sizePerElement = u(24);
    const maxM0 = u(64);
    const M = u(72);
    const enterpoint = h.getUint32(52, true);
    const expectPerElement = (maxM0 * 4 + 4) + want.dimensions * 4 + 8;
    if (M !== want.M || maxM0 !== 2 * want.M) return 'corrupt: its header has other graph parameters';
    if (sizePerElement !== expectPerElement) return 'corrupt: its header has another element size';
    if (cur !== side.elements || cur > maxElements) return 'corrupt: its header has another element count';
    if (cur > 0 && enterpoint >= cur) return 'corrupt: its entry point is out of range';
    if (HEADER_BYTES + cur * sizePerElement + cur * 4 > size) return 'corrupt: it is shorter than its header says';
    if (sha256File(indexPath) !== side.sha256) return 'corrupt: its checksum does not match';
    return side;
  } catch (e) {
    return `corrupt: ${(e as Error).message}`;
  }
}
