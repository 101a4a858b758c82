/**
 * A child process for test/sqlite/owner.test.ts and read-only.test.ts:
 * `node --import tsx owner-child.ts FILE [--wait-go] [--read-only] [--barrier DIR N]`.
 *
 * Opens FILE (to write, unless --read-only), writes one persona-cache row when it may, and prints
 * one JSON line: `{"held":true,"pid":…}` or `{"held":false,"code":…,"refusal":…,"message":…}`.
 * Then it reads commands from stdin, one per line: `write NAME` (a committed write, answered
 * `{"wrote":NAME}`), `read` (answered `{"rows":N}`), `exit` (exits at once, without closing), `close` (closes, answers `{"closed":true}`
 * and exits). With --wait-go it loads everything first, prints `{"ready":true}`, and opens only
 * when it reads the line `go` (so several children can be released at once).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/adapters/sqlite/sqlite-database.ts';
import { SqlitePersonaCache } from '../../src/adapters/sqlite/sqlite-persona-cache.ts';

const args = process.argv.slice(2);
const file = args[0] as string;
const waitGo = args.includes('--wait-go');
const readOnly = args.includes('--read-only');
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

let sdb: SqliteDatabase | null = null;
let cache: SqlitePersonaCache | null = null;

/**
 * --barrier DIR N: when the lock is found stale, wait (bounded) until N contenders have found it
 * stale too, so their takeovers overlap instead of being spread out by process start-up.
 */
function barrier(): { onStale: () => void } | undefined {
  const i = args.indexOf('--barrier');
  if (i < 0) return undefined;
  const dir = args[i + 1] as string;
  const n = Number(args[i + 2]);
  return {
    onStale: () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, String(process.pid)), '');
      const cell = new Int32Array(new SharedArrayBuffer(4));
      for (let polls = 0; polls < 20_000 && readdirSync(dir).length < n; polls++) Atomics.wait(cell, 0, 0, 1);
    },
  };
}

function openIt(): void {
  try {
    const ownerLock = barrier();
    sdb = openSqliteDatabase(file, { readOnly, ...(ownerLock ? { ownerLock } : {}) });
    cache = new SqlitePersonaCache(sdb);
    say({ held: true, pid: process.pid });
  } catch (e) {
    const err = e as { code?: string; refusal?: string; message: string };
    say({ held: false, pid: process.pid, code: err.code, refusal: err.refusal, message: err.message });
  }
}

async function command(line: string): Promise<void> {
  const [verb, arg] = line.trim().split(/\s+/);
  if (verb === 'go') {
    openIt();
  } else if (verb === 'write' && cache && sdb) {
    await cache.set(arg ?? 'p', { wrote_by: String(process.pid) });
    sdb.checkpoint();
    say({ wrote: arg });
  } else if (verb === 'read' && cache) {
    say({ rows: (await cache.list()).length });
  } else if (verb === 'exit') {
    process.exit(0); // a normal exit without close: the exit hook releases the lock
  } else if (verb === 'close') {
    await cache?.close();
    await sdb?.release();
    say({ closed: true });
    process.exit(0);
  }
}

if (waitGo) say({ ready: true });
else openIt();
const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain
    .then(() => command(line))
    .catch((e: Error) => {
      say({ error: e.message, code: (e as { code?: string }).code });
    });
});
