/**
 * Tampering with a real exported snapshot (a storm run on SQLite, persona memories included):
 * named edits and a seeded loop of random single-field edits are each refused with a message
 * naming the section that no longer matches (or the whole digest), exit code 2, and the target
 * left byte for byte as it was. An edit whose digests were all recomputed passes the digests
 * (SHA-256 has no key) and is refused only against the whole digest kept from the export
 * (--expect-digest): the documented limit. A child process killed while importing leaves the
 * target as it was, and the next import clears its scratch files.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSnapshot, SNAPSHOT_SECTIONS } from '../../src/cli/snapshot.ts';
import { ChimeraError } from '../../src/domain/errors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { emptyDbInOwnFolder, folderState, inOwnFolder, resealed, run, stormRun } from './snapshot-support.ts';

const SEED = Number(process.env.CHIMERA_TAMPER_SEED ?? 20261128);
const RANDOM_EDITS = 120;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'chimera.mjs');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Doc = { [k: string]: Json } & {
  counts: Record<string, number>;
  tasks: Record<string, Json>[];
  campaigns: Record<string, Json>[];
  audit: Record<string, Json>[];
  run_events: Record<string, Json>[];
  persona_memories: Record<string, Json>[];
  queues: { task: { queue: string; items: Record<string, Json>[] }[]; review: { queue: string; items: Record<string, Json>[] }[] };
  digest: { algorithm: string; sections: Record<string, string>; whole: string };
};

let text = '';
let good: Doc;

const copy = (): Doc => JSON.parse(text) as Doc;

/** Imports `doc` (or text) through the CLI into a fresh target (existing empty, or a new name); checks exit 2, the message, and the target's folder unchanged. */
async function refused(label: string, doc: Doc | string, message: RegExp, k: number, extra: string[] = []): Promise<string> {
  const file = inOwnFolder('tampered', `${label.replace(/[^a-z0-9]+/gi, '-')}.json`);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  const db = k % 2 ? await emptyDbInOwnFolder('target') : inOwnFolder('target');
  const before = folderState(dirname(db));
  const r = await run(['import', '--backend', 'sqlite', '--db', db, ...extra, file]);
  expect(r.code, `${label}: ${r.err}`).toBe(2);
  expect(r.err, label).toMatch(message);
  expect(r.err, label).toContain(file);
  expect(folderState(dirname(db)), `${label}: the target's folder changed`).toEqual(before);
  return r.err;
}

describe('sqlite: tampered snapshots are refused', () => {
  beforeAll(async () => {
    const src = await stormRun(11, 16);
    const r = await run(['export', '--backend', 'sqlite', '--db', src]);
    expect(r.code, r.err).toBe(0);
    text = r.out;
    good = copy();
    expect(good.counts.persona_memories).toBeGreaterThan(0);
    expect(good.counts.queue_items).toBeGreaterThan(0);
  }, 60_000);

  it('named edits: each names what does not match, and the target is unchanged', async () => {
    const edits: [string, (d: Doc) => void, RegExp][] = [
      [
        'delete a task and adjust the counts',
        (d) => {
          d.tasks.splice(3, 1);
          d.counts.tasks = (d.counts.tasks ?? 0) - 1;
        },
        new RegExp(`section tasks \\(${good.tasks.length - 1} records\\) does not match the digest recorded for it`),
      ],
      [
        'flip a task status',
        (d) => {
          const t = d.tasks.find((x) => x.status === 'COMPLETED')!;
          t.status = 'FAILED';
        },
        /section tasks \(\d+ records\) does not match/,
      ],
      ['edit a run event', (d) => void (d.run_events[5]!.step = (d.run_events[5]!.step as number) + 1), /section run_events \(\d+ records\) does not match/],
      [
        'edit an output',
        (d) => {
          const t = d.tasks.find((x) => x.output_data !== null)!;
          t.output_data = { ...(t.output_data as Record<string, Json>), forged: true };
        },
        /section tasks .* does not match/,
      ],
      [
        "change a queue item's attempts",
        (d) => {
          const q = [...d.queues.task, ...d.queues.review].find((x) => x.items.length)!;
          q.items[0]!.attempts = (q.items[0]!.attempts as number) + 1;
        },
        /section queues\.(task|review) \(\d+ queues?, \d+ items?\) does not match/,
      ],
      ["edit a memory's content", (d) => void (d.persona_memories[0]!.content = `${String(d.persona_memories[0]!.content)} (edited)`), /section persona_memories \(\d+ records\) does not match/],
      ["edit a campaign's state_version", (d) => void (d.campaigns[0]!.state_version = (d.campaigns[0]!.state_version as number) + 1), /section campaigns \(\d+ records\) does not match/],
      [
        'reorder audit events',
        (d) => {
          const [a, b] = [d.audit[4]!, d.audit[5]!];
          d.audit[4] = b;
          d.audit[5] = a;
        },
        /section audit \(\d+ records\) does not match/,
      ],
      ["edit the source's backend", (d) => void ((d.source as Record<string, Json>).backend = 'memory'), /the whole digest does not match the header and the section digests/],
      ['edit the audit head', (d) => void ((d.audit_head as Record<string, Json>).seq = 1), /the whole digest does not match/],
      [
        "edit a task and set the tasks section's digest to match",
        (d) => {
          d.tasks[0]!.attempts = (d.tasks[0]!.attempts as number) + 1;
          d.digest.sections.tasks = (resealed(d) as Doc).digest.sections.tasks!;
        },
        /^(?!.*section tasks).*the whole digest does not match the header and the section digests recorded beside it/,
      ],
      ['edit the whole digest', (d) => void (d.digest.whole = d.digest.whole.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))), /the whole digest does not match/],
      ['drop a section digest', (d) => void delete d.digest.sections.run_events, /section run_events .* does not match/],
    ];
    for (const [k, [label, edit, message]] of edits.entries()) {
      const d = copy();
      edit(d);
      await refused(label, d, message, k);
    }
  });

  it('all digests recomputed after an edit: the digests cannot tell (no key), the whole digest kept from the export can', async () => {
    const d = copy();
    const t = d.tasks.find((x) => x.status === 'COMPLETED')!;
    t.status = 'FAILED';
    const forged = resealed(d) as Doc;
    // the one thing a digest cannot prove: this parses
    expect(parseSnapshot(JSON.stringify(forged), 'forged').digest.whole).not.toBe(good.digest.whole);
    await refused('forged with every digest recomputed', forged, new RegExp(`has digest ${forged.digest.whole}, not the expected ${good.digest.whole}`), 1, ['--expect-digest', `sha256:${good.digest.whole}`]);
    // the original passes the same check
    const ok = inOwnFolder('expected');
    const file = inOwnFolder('expected', 'good.json');
    writeFileSync(file, text);
    const r = await run(['import', '--backend', 'sqlite', '--db', ok, '--expect-digest', good.digest.whole, file]);
    expect(r.code, r.err).toBe(0);
  });

  it(`${RANDOM_EDITS} seeded random single-field edits are each refused, naming the section (seed ${SEED})`, async () => {
    const rng = new SeededRng(SEED);
    const leaves: (string | number)[][] = [];
    const walk = (v: Json, path: (string | number)[]) => {
      if (v !== null && typeof v === 'object') {
        if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
        else for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      } else leaves.push(path);
    };
    walk(good as unknown as Json, []);
    const counted = new Map<string, number>();
    for (let i = 0; i < RANDOM_EDITS; i++) {
      const path = leaves[rng.int(leaves.length)]!;
      const d = copy() as unknown as Json;
      let parent = d as Record<string | number, Json>;
      for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
      const key = path.at(-1)!;
      const before = parent[key]!;
      parent[key] = mutate(before, rng);
      const where = `edit ${i} (seed ${SEED}): ${path.join('.')} ${JSON.stringify(before)?.slice(0, 40)} → ${JSON.stringify(parent[key])?.slice(0, 40)}`;
      const expected = expectedMessage(path);
      counted.set(expected.source, (counted.get(expected.source) ?? 0) + 1);
      if (i % 12 === 0) {
        await refused(where, JSON.stringify(d), expected, i);
        continue;
      }
      let err: unknown = null;
      try {
        parseSnapshot(JSON.stringify(d), 'tampered.json');
      } catch (e) {
        err = e;
      }
      expect(err, where).toBeInstanceOf(ChimeraError);
      expect((err as Error).message, where).toMatch(expected);
    }
    // the loop reached many sections, not one
    expect(counted.size, [...counted.keys()].join(' | ')).toBeGreaterThanOrEqual(5);
  });

  it('an import killed by SIGKILL leaves the target as it was; the next import clears its scratch files', async () => {
    const snapFile = inOwnFolder('killed', 'snap.json');
    writeFileSync(snapFile, text);
    const db = await emptyDbInOwnFolder('killed-target');
    const dir = dirname(db);
    const before = folderState(dir);
    // states of an import, in order: the scratch database exists, its log exists, the scratch memory folder exists
    const states = [(pid: number) => `${db}.importing-${pid}-1`, (pid: number) => `${db}.importing-${pid}-1-wal`, (pid: number) => join(dir, `persona-memory.importing-${pid}-1`)];
    let killedBefore = 0;
    for (const [k, state] of states.entries()) {
      const child = spawn(process.execPath, [BIN, 'import', '--backend', 'sqlite', '--db', db, snapFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
      let done = false;
      void exited.then(() => (done = true));
      const path = state(child.pid!);
      while (!done && !existsSync(path)) await new Promise((r) => setImmediate(r));
      child.kill('SIGKILL');
      const end = await exited;
      if (end.signal === 'SIGKILL' && end.code === null) {
        // killed before the rename: the target's files are as they were, only scratch files beside them
        const now = folderState(dir);
        for (const [name, bytes] of before) expect(now.get(name), `life ${k}: ${name}`).toBe(bytes);
        const added = [...now.keys()].filter((n) => !before.has(n));
        expect(added.every((n) => n.includes('.importing-')), `life ${k}: ${added.join(', ')}`).toBe(true);
        killedBefore += 1;
      } else {
        expect(end.code, err).toBe(0); // it finished first: then whole (checked below)
        break;
      }
    }
    expect(killedBefore, 'at least one import was killed part-way').toBeGreaterThan(0);
    if (readdirSync(dir).some((n) => n.includes('.importing-')) || folderState(dir).get(basename(db)) === before.get(basename(db))) {
      const r = await run(['import', '--backend', 'sqlite', '--db', db, snapFile]);
      expect(r.code, r.err).toBe(0);
    }
    expect(readdirSync(dir).filter((n) => n.includes('.importing-'))).toEqual([]);
    const back = await run(['export', '--backend', 'sqlite', '--db', db]);
    expect(back.out).toBe(text);
    expect(readFileSync(snapFile, 'utf8')).toBe(text);
  }, 120_000);
});

/** A different value of the same kind (a number moved, a string with one character changed, a flag flipped). */
function mutate(v: Json, rng: SeededRng): Json {
  if (typeof v === 'number') return Number.isInteger(v) ? v + 1 + rng.int(3) : v + 0.125;
  if (typeof v === 'boolean') return !v;
  if (v === null) return 0;
  if (typeof v === 'string') {
    if (v.length === 0) return 'x';
    const i = rng.int(v.length);
    const c = v[i] === 'a' ? 'b' : 'a';
    return v.slice(0, i) + c + v.slice(i + 1);
  }
  return v;
}

/** What the refusal must name for an edit at `path`. */
function expectedMessage(path: readonly (string | number)[]): RegExp {
  const [top, second] = path;
  if (top === 'digest') {
    if (second === 'algorithm') return /has no valid digest/;
    return /the whole digest does not match|section .* does not match/;
  }
  if (top === 'format') return /is not a Chimera snapshot/;
  if (top === 'version') return /snapshot version/;
  const section = top === 'queues' ? `queues.${String(second)}` : String(top);
  if ((SNAPSHOT_SECTIONS as readonly string[]).includes(section)) return new RegExp(`section ${section.replace('.', '\\.')} \\(`);
  return /the whole digest does not match the header and the section digests/;
}
