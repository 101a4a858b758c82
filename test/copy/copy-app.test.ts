/**
 * The app's copy channels (src/app/studio/copy-channels.ts) on a real studio service: a SQLite
 * profile copied into a new one with its progress pushed in order and the result verified, the
 * in-memory session copied with its persona memories, a cancelled copy resumed to the digest an
 * uninterrupted one gives, and the refusals (a target that is not empty, the active profile, a
 * read-only production target) made before anything is written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { StudioService } from '../../src/app/studio-service.ts';
import { digestState } from '../../src/app/state-digest.ts';
import type { CopyRecord } from '../../src/app/copy.ts';
import type { CopySideArg, CopyStatusView, PushMessage } from '../../src/shared/types.ts';
import { productionStore, type ProductionStore } from '../production/support.ts';
import { side, tempDir } from './support.ts';

const ENDED = ['finished', 'failed', 'cancelled'];

/** Every copy status the service pushes, in arrival order. */
function recorder(service: StudioService) {
  const seen: CopyStatusView[] = [];
  const off = service.subscribe((m: PushMessage) => {
    if (m.type === 'copy') seen.push(m.copy);
  });
  return { seen, off };
}

/** Resolves with the copy's status once `pred` holds: checked now and at every push (no polling). */
function until(service: StudioService, pred: (s: CopyStatusView) => boolean): Promise<CopyStatusView> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = (s: CopyStatusView | null) => {
      if (done || !s || !pred(s)) return;
      done = true;
      off();
      resolve(s);
    };
    const off = service.subscribe((m) => {
      if (m.type === 'copy') check(m.copy);
    });
    service.call('copy/status', {}).then((r) => check(r.copy), reject);
  });
}

const ended = (id: number) => (s: CopyStatusView) => s.id === id && ENDED.includes(s.state);
const sqlite = (name: string): CopySideArg => ({ kind: 'sqlite', name });

describe('copy in the app', () => {
  let service: StudioService;
  let dataDir: string;
  const profile = (name: string) => join(dataDir, 'profiles', name, 'chimera.db');

  beforeAll(async () => {
    dataDir = tempDir('app');
    service = await StudioService.open({ config: loadConfig({ env: {}, overrides: { data_dir: dataDir } }) });
    // a source of several pages (of 250 in the app): a campaign of 300 pieces beside the scenario's, partly worked
    await service.call('backend/switch', { kind: 'sqlite', name: 'src' });
    await service.call('campaigns/create', { title: 'Big launch', goal: 'Launch the autumn collection everywhere', persona_id: 'aria', content_pieces: 300 });
    for (let i = 0; i < 3 && !service.status().finished; i++) await service.call('sim/step', { count: 500 });
  }, 300_000);
  afterAll(async () => {
    await service?.close();
  });

  it('lists the sides: the SQLite profiles by name, production as configured (here: not), memory as a check', async () => {
    const { sides } = await service.call('copy/sides', {});
    const src = sides.find((s) => s.side.kind === 'sqlite' && s.side.name === 'src');
    expect(src).toMatchObject({ not_from: null, not_to: expect.stringMatching(/active profile/) });
    expect(sides.find((s) => s.side.kind === 'production')).toMatchObject({ not_from: expect.stringMatching(/CHIMERA_POSTGRES_URL/) });
    expect(sides.find((s) => s.side.kind === 'memory')?.not_from).toMatch(/not in memory/);
  });

  it('copies the active SQLite profile into a new one: progress pushed in order, both digests equal, every chain verified', async () => {
    const rec = recorder(service);
    // a timer set as copying begins fires before the copy ends: the copy gives the event loop a turn between pages
    let timerFired: string | null = null;
    const offTimer = service.subscribe((m) => {
      if (m.type !== 'copy' || m.copy.phase !== 'copy' || timerFired !== null) return;
      timerFired = 'armed';
      setTimeout(() => (timerFired = rec.seen.at(-1)?.state ?? 'none'), 0);
    });
    const started = await service.call('copy/start', { from: sqlite('src'), to: sqlite('copy-a') });
    expect(started).toMatchObject({ state: 'running', resumed: false, from_label: `sqlite:${profile('src')}`, to_label: `sqlite:${profile('copy-a')}` });
    const end = await until(service, ended(started.id));
    rec.off();
    offTimer();
    expect(timerFired, 'the state of the copy when the timer fired').toBe('running');
    expect(end.error).toBeNull();
    expect(end.state).toBe('finished');
    const r = end.result;
    expect(r).toMatchObject({ resumed: false, digests_equal: true, memories_compared: true, unlisted: [] });
    expect(r?.digest).toBe(r?.source_digest);
    expect(r?.chains).toBeGreaterThan(1);
    expect(r?.counts.persona_memories).toBeGreaterThan(0);
    expect(r?.tasks_per_s).toBeGreaterThan(0);
    expect(r?.counts.tasks, 'several pages of tasks').toBeGreaterThan(500);

    // in order: seq rising, phases never going back, the whole copy's count never falling, one total
    const seen = rec.seen.filter((s) => s.id === started.id);
    expect(seen.length).toBeGreaterThan(3);
    const phases = ['opening', 'copy', 'verify', 'done'];
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1] as CopyStatusView, seen[i] as CopyStatusView];
      expect(b.seq, `push ${i}`).toBeGreaterThan(a.seq);
      expect(phases.indexOf(b.phase), `push ${i}: ${a.phase} → ${b.phase}`).toBeGreaterThanOrEqual(phases.indexOf(a.phase));
      expect(b.done, `push ${i}`).toBeGreaterThanOrEqual(a.done);
      if (a.total > 0) expect(b.total).toBe(a.total);
    }
    expect(seen.map((s) => s.phase)).toEqual(expect.arrayContaining(['copy', 'verify', 'done']));
    expect(seen.some((s) => s.phase === 'verify' && s.side === 'target')).toBe(true);
    expect(end.done).toBe(end.total);

    // the copy holds what the source holds, as another reader sees it
    const [a, b] = [await side(`sqlite:${profile('src')}`, 'source'), await side(`sqlite:${profile('copy-a')}`, 'source')];
    try {
      const [da, db] = [await digestState(a.ports, a.memories, 'copy'), await digestState(b.ports, b.memories, 'copy')];
      expect(db.whole).toBe(da.whole);
      expect(db.whole).toBe(r?.digest);
    } finally {
      await a.close();
      await b.close();
    }
    // the new profile is one of the sides now
    expect((await service.call('copy/sides', {})).sides.some((s) => s.side.kind === 'sqlite' && s.side.name === 'copy-a')).toBe(true);
  });

  it('a cancelled copy, started again, resumes and ends with the digest of an uninterrupted one', async () => {
    const whole = await service.call('copy/start', { from: sqlite('src'), to: sqlite('whole') });
    const w = await until(service, ended(whole.id));
    expect(w.state).toBe('finished');

    // cancel as soon as copying is reported to have begun: the copy stops after the page it is on
    let cancelled = false;
    const off = service.subscribe((m) => {
      if (m.type === 'copy' && !cancelled && m.copy.phase === 'copy') {
        cancelled = true;
        void service.call('copy/cancel', {});
      }
    });
    const first = await service.call('copy/start', { from: sqlite('src'), to: sqlite('resumed') });
    const stopped = await until(service, ended(first.id));
    off();
    expect(stopped.state).toBe('cancelled');
    expect(stopped.done).toBeLessThan(stopped.total);
    const record = JSON.parse(readFileSync(`${profile('resumed')}.copy.json`, 'utf8')) as CopyRecord;
    expect(record.finished_at).toBeNull();
    expect((await service.call('copy/sides', {})).sides.find((s) => s.side.kind === 'sqlite' && s.side.name === 'resumed')?.detail).toMatch(/unfinished copy of sqlite:.*copying it again resumes/);

    const again = await service.call('copy/start', { from: sqlite('src'), to: sqlite('resumed') });
    expect(again.resumed).toBe(true);
    const end = await until(service, ended(again.id));
    expect(end.error).toBeNull();
    expect(end.result?.resumed).toBe(true);
    expect(end.result?.digest).toBe(w.result?.digest);
    const sum = (o: Readonly<Record<string, number>>) => Object.values(o).reduce((x, y) => x + y, 0);
    // the first run's pages stayed: the second wrote only the rest
    expect(sum(end.result?.written ?? {})).toBeLessThan(sum(w.result?.written ?? {}));
  });

  it('refuses a target that is not empty, and the active profile, before writing anything', async () => {
    // another profile with a run of its own
    await service.call('backend/switch', { kind: 'sqlite', name: 'other' });
    await service.call('sim/step', { count: 40 });
    await service.call('backend/switch', { kind: 'sqlite', name: 'src' });
    const err = await service.call('copy/start', { from: sqlite('src'), to: sqlite('other') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining(`sqlite:${profile('other')} is not empty`) });
    expect(existsSync(`${profile('other')}.copy.json`)).toBe(false);
    const status = (await service.call('copy/status', {})).copy;
    expect(status).toMatchObject({ state: 'failed', error: { code: 'VALIDATION' } });

    const active = await service.call('copy/start', { from: sqlite('other'), to: sqlite('src') }).catch((e: unknown) => e);
    expect(active).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/^to: SQLite profile "src" is the active profile/) });
    const same = await service.call('copy/start', { from: sqlite('other'), to: sqlite('other') }).catch((e: unknown) => e);
    expect(same).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/^to: .* is also the source/) });
  });

  it('copies the in-memory session with its persona memories into a new SQLite profile', async () => {
    await service.call('backend/switch', { kind: 'memory' });
    await service.call('sim/step', { count: 120 });
    const { sides } = await service.call('copy/sides', {});
    expect(sides.find((s) => s.side.kind === 'memory')?.not_from).toBeNull();
    const start = await service.call('copy/start', { from: { kind: 'memory' }, to: sqlite('from-memory') });
    expect(start.from_label).toMatch(/^memory \(the in-memory run: .*, seed \d+\)$/);
    const end = await until(service, ended(start.id));
    expect(end.error).toBeNull();
    expect(end.result).toMatchObject({ digests_equal: true, memories_compared: true });
    expect(end.result?.counts.persona_memories).toBeGreaterThan(0);
  });
});

describe('copy in the app into a read-only production', () => {
  let prod: ProductionStore;
  let service: StudioService;
  beforeAll(async () => {
    prod = await productionStore('copy-app-ro');
    const dataDir = tempDir('app-ro');
    // production as configured, read-only; the app itself runs on SQLite
    const { DATABASE_MODE: _mode, ...env } = prod.env;
    service = await StudioService.open({ config: loadConfig({ env: { ...env, CHIMERA_READ_ONLY: '1' }, overrides: { data_dir: dataDir } }) });
    await service.call('backend/switch', { kind: 'sqlite', name: 'src' });
    await service.call('sim/step', { count: 60 });
  }, 120_000);
  afterAll(async () => {
    await service?.close();
    await prod?.drop();
  });

  it('is refused with READ_ONLY, naming it, and nothing is written there', async () => {
    const { sides } = await service.call('copy/sides', {});
    expect(sides.find((s) => s.side.kind === 'production')?.not_to).toMatch(/read-only/);
    const err = await service.call('copy/start', { from: sqlite('src'), to: { kind: 'production' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'READ_ONLY', message: expect.stringMatching(/^production \(Postgres .*\) is open read-only \(.*\): a copy cannot write into it; nothing was written$/) });
    const c = new pg.Client({ connectionString: prod.pgUrl });
    await c.connect();
    try {
      const r = (await c.query(`SELECT to_regclass('copy_progress')::text AS progress, to_regclass('campaigns')::text AS campaigns`)).rows[0] as { progress: string | null; campaigns: string | null };
      expect(r.progress).toBeNull();
      if (r.campaigns) expect((await c.query(`SELECT count(*)::int AS n FROM campaigns`)).rows[0]).toEqual({ n: 0 });
    } finally {
      await c.end();
    }
  });
});
