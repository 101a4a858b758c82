/** Fresh SQLite files for tests, in one temporary folder per process, removed at exit. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | null = null;
let n = 0;

/** A path to a database file that does not exist yet. */
export function tempDbPath(label = 'db'): string {
  if (!dir) {
    const d = mkdtempSync(join(tmpdir(), 'chimera-sqlite-'));
    dir = d;
    process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  n += 1;
  return join(dir, `${label}-${n}.sqlite`);
}
