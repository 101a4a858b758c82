/**
 * `chimera copy`: a whole state moves memory → SQLite → production → SQLite with equal digests
 * (every section, the audit chains sealed exactly as they were), the streaming digest is a
 * snapshot's, a copy killed mid-way resumes to the same digest, a non-empty target is refused
 * (exit 2, naming it) and a finished copy run again writes nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyState, CopyVerificationError, type CopyRecord } from '../../src/app/copy.ts';
import { digestState } from '../../src/app/state-digest.ts';
import { exportSnapshot } from '../../src/cli/snapshot.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';
import { chimera, memorySimulation, side, sqliteSimulation, tempDir } from './support.ts';

const SEED = Number(process.env.CHIMERA_COPY_SEED ?? Date.now() % 1_000_000);
const dirs: string[] = [];
const stores: ProductionStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const dir = (label: string) => {
  const d = tempDir(label);
  dirs.push(d);
  return d;
};
const production = async (label: string) => {
  const s = await productionStore(label);
  stores.push(s);
  return s;
};

describe('chimera copy', () => {
  it('memory → SQLite → production → SQLite gives equal digests, chains sealed as they were', async () => {
    const d = dir('round');
    const sim = await memorySimulation(4);
    const prod = await production('copy-round');
    const digests: string[] = [];
    try {
      const source = { label: 'memory (simulation)', ports: sim.ports, memories: null };
      const a = await side(`sqlite:${join(d, 'a.db')}`, 'target');
      try {
        const r = await copyState(source, a);
        expect(r.resumed).toBe(false);
        expect(r.counts.tasks).toBeGreaterThan(0);
        expect(r.counts.queue_items).toBeGreaterThan(0);
        expect(r.counts.idempotency_keys).toBeGreaterThan(0);
        digests.push(r.digest);
      } finally {
        await a.close();
      }
      const src = await digestState(sim.ports, null, 'copy');
      // the streaming digest is a snapshot's: section by section
      const snap = await exportSnapshot(sim.ports, 'copy');
      for (const s of Object.keys(src.sections)) if (s !== 'persona_memories') expect(src.sections[s], s).toBe(snap.digest.sections[s]);
    } finally {
      await sim.close();
    }
    const r2 = await chimera(['copy', `sqlite:${join(d, 'a.db')}`, 'production', '--json'], prod.env);
    expect(r2.err).toBe('');
    expect(r2.code).toBe(0);
    digests.push(JSON.parse(r2.out).digest);
    const r3 = await chimera(['copy', 'production', `sqlite:${join(d, 'b.db')}`, '--json'], prod.env);
    expect(r3.code, r3.err).toBe(0);
    const j3 = JSON.parse(r3.out);
    digests.push(j3.digest);
    expect(new Set(digests).size).toBe(1);
    // the two SQLite files hold the same state: their snapshots agree section by section
    const [sa, sb] = [await side(`sqlite:${join(d, 'a.db')}`, 'source'), await side(`sqlite:${join(d, 'b.db')}`, 'source')];
    try {
      const [ea, eb] = [await exportSnapshot(sa.ports, 'sqlite'), await exportSnapshot(sb.ports, 'sqlite')];
      expect(eb.digest.sections).toEqual(ea.digest.sections);
      expect(eb.audit).toEqual(ea.audit);
    } finally {
      await sa.close();
      await sb.close();
    }
  });

  it('SQLite → production with its queues in Postgres → SQLite keeps the queues as they were', async () => {
    const d = dir('pgq');
    const sim = await memorySimulation(3, 11);
    const a = await side(`sqlite:${join(d, 'a.db')}`, 'target');
    try {
      expect((await copyState({ label: 'memory (simulation)', ports: sim.ports, memories: null }, a)).counts.queue_items).toBeGreaterThan(0);
    } finally {
      await a.close();
      await sim.close();
    }
    const prod = await productionStore('copy-pgq', { queues: 'postgres' });
    stores.push(prod);
    const there = await chimera(['copy', `sqlite:${join(d, 'a.db')}`, 'production', '--json'], prod.env);
    expect(there.code, there.err).toBe(0);
    const back = await chimera(['copy', 'production', `sqlite:${join(d, 'b.db')}`, '--json'], prod.env);
    expect(back.code, back.err).toBe(0);
    const [j1, j2] = [JSON.parse(there.out), JSON.parse(back.out)];
    // the queues restored as they were (no note about them); the memories said to be the process's own, not compared
    expect(j1.notes.filter((n: string) => /queue/.test(n))).toEqual([]);
    expect(j1.notes).toEqual([expect.stringMatching(/has no Weaviate \(CHIMERA_WEAVIATE_URL is not set\): its persona memory lives in each process for its run only \(ephemeral\)/)]);
    expect(j1.memories_compared).toBe(false);
    expect(j2.sections['queues.task']).toBe(j1.sections['queues.task']);
    expect(j2.digest).toBe(j1.digest);
  });

  it('a source that changes during the copy fails the verification, naming the section', async () => {
    const sim = await memorySimulation(3, 13);
    const d = dir('changed');
    const to = await side(`sqlite:${join(d, 'a.db')}`, 'target');
    try {
      let changed = false;
      const copy = copyState({ label: 'memory (simulation)', ports: sim.ports, memories: null }, to, {
        afterPage: (section) => {
          // once the tasks are copied, the source's persona cache changes under the copy
          if (section === 'run_events' && !changed) {
            changed = true;
            void sim.ports.personaCache.set('late-persona', { name: 'Late' });
          }
        },
      });
      await expect(copy).rejects.toThrow(CopyVerificationError);
      await expect(copy).rejects.toMatchObject({ sections: ['persona_cache'] });
      await expect(copy).rejects.toThrow(/section persona_cache of sqlite:.* differs from memory \(simulation\)/);
    } finally {
      await to.close();
      await sim.close();
    }
  });

  it('refuses a target that is not empty (exit 2, one line naming it) and writes nothing into it', async () => {
    const d = dir('refuse');
    await sqliteSimulation(join(d, 'a.db'), 3, 1);
    await sqliteSimulation(join(d, 'b.db'), 2, 2);
    const before = readFileSync(join(d, 'b.db'));
    const r = await chimera(['copy', `sqlite:${join(d, 'a.db')}`, `sqlite:${join(d, 'b.db')}`]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toContain(`sqlite:${join(d, 'b.db')} is not empty`);
    expect(existsSync(join(d, 'b.db.copy.json'))).toBe(false);
    expect(readFileSync(join(d, 'b.db')).equals(before)).toBe(true);
    // a copy of another source is refused too, naming both
    expect((await chimera(['copy', `sqlite:${join(d, 'a.db')}`, `sqlite:${join(d, 'c.db')}`])).code).toBe(0);
    const again = await chimera(['copy', `sqlite:${join(d, 'b.db')}`, `sqlite:${join(d, 'c.db')}`]);
    expect(again.code).toBe(2);
    expect(again.err).toContain(`holds a copy of sqlite:${join(d, 'a.db')}`);
  });

  it('refuses a read-only target (exit 2, one line saying so) before opening it', async () => {
    const d = dir('read-only');
    await sqliteSimulation(join(d, 'a.db'), 2, 4);
    const prod = await production('copy-ro');
    const r = await chimera(['copy', `sqlite:${join(d, 'a.db')}`, 'production'], { ...prod.env, CHIMERA_READ_ONLY: '1' });
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^chimera copy: production \(Postgres .*\) is open read-only \(CHIMERA_READ_ONLY or production\.read_only in the config\): a copy cannot write into it; nothing was written\n$/);
  });

  it('a finished copy run again writes nothing and verifies again', async () => {
    const d = dir('again');
    await sqliteSimulation(join(d, 'a.db'), 6, 3);
    const prod = await production('copy-again');
    const first = await chimera(['copy', `sqlite:${join(d, 'a.db')}`, 'production', '--json'], prod.env);
    expect(first.code, first.err).toBe(0);
    const second = await chimera(['copy', `sqlite:${join(d, 'a.db')}`, 'production', '--json'], prod.env);
    expect(second.code, second.err).toBe(0);
    const [j1, j2] = [JSON.parse(first.out), JSON.parse(second.out)];
    expect(j2.already_finished).toBe(true);
    expect(Object.values(j2.written as Record<string, number>).every((n) => n === 0)).toBe(true);
    expect(j2.digest).toBe(j1.digest);
    expect(j2.counts).toEqual(j1.counts);
  });

  for (const target of ['production', 'sqlite'] as const) {
    it(`a copy into ${target} SIGKILLed mid-way resumes and ends with the same digest (seed ${SEED})`, async () => {
      const d = dir(`kill-${target}`);
      const src = join(d, 'a.db');
      await sqliteSimulation(src, 12, 5);
      const env = target === 'production' ? (await production(`copy-kill`)).env : {};
      const to = target === 'production' ? 'production' : `sqlite:${join(d, 'b.db')}`;
      const killAt = 1 + new SeededRng(SEED).int(30);
      console.log(`copy kill test (${target}): seed ${SEED}, kill after page ${killAt}`);
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'copy-child.ts'), `sqlite:${src}`, to, String(killAt), '5'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const signal = await new Promise<string | number | null>((resolve) => child.once('exit', (code, sig) => resolve(sig ?? code)));
      expect(signal, err).toBe('SIGKILL');
      if (target === 'sqlite') {
        const rec = JSON.parse(readFileSync(join(d, 'b.db.copy.json'), 'utf8')) as CopyRecord;
        expect(rec.finished_at).toBeNull();
      }
      const r = await chimera(['copy', `sqlite:${src}`, to, '--json'], env);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out);
      expect(j.resumed).toBe(true);
      // the killed run had committed pages: the resumed one wrote only the rest
      const sum = (o: Record<string, number>) => Object.values(o).reduce((x, y) => x + y, 0);
      expect(sum(j.written)).toBeLessThan(sum(j.counts) + 1);
      const s = await side(`sqlite:${src}`, 'source');
      try {
        const expected = await digestState(s.ports, target === 'sqlite' ? s.memories : null, 'copy');
        expect(j.counts).toEqual({ ...expected.counts, persona_memories: j.counts.persona_memories });
        for (const [k, v] of Object.entries(j.sections as Record<string, string>)) expect(v, k).toBe(expected.sections[k]);
      } finally {
        await s.close();
      }
    });
  }
});
