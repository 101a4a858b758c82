import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../support/cli.ts';

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

describe('chimera CLI', () => {
  it('simulate --json prints one object with the summary fields', async () => {
    const r = await cli(['simulate', '--seed', '3', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const k of ['seed', 'backend', 'ticks', 'tasks', 'hitlPending', 'conflicts', 'eventLogSha256', 'elapsedMs', 'tasksPerSecond']) expect(s).toHaveProperty(k);
    expect(s.tasks).toEqual({ total: expect.any(Number), completed: expect.any(Number), failed: expect.any(Number), escalated: expect.any(Number) });
    expect(s.seed).toBe(3);
    expect(s.backend).toBe('memory');
  });

  it('simulate --ticks stops early; a human-readable summary without --json', async () => {
    const r = await cli(['simulate', '--scenario', 'storm', '--ticks', '3', '--workers', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/finished\s+not yet/);
    expect(r.stdout).toMatch(/sha256 [0-9a-f]{64}/);
  });

  it('replay reproduces the eventLogSha256 of simulate --out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-cli-'));
    const a = await cli(['simulate', '--scenario', 'storm', '--seed', '8', '--out', join(dir, 'run.jsonl'), '--json', '--fault', 'slow_worker=0.2']);
    expect(a.code).toBe(0);
    const b = await cli(['replay', join(dir, 'run.jsonl'), '--json']);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).eventLogSha256).toBe(JSON.parse(a.stdout).eventLogSha256);
    expect(JSON.parse(b.stdout).replayOk).toBe(true);
  });

  it.each([
    [['simulate', '--bogus'], /unknown option "--bogus"/],
    [['simulate', '--seed', 'abc'], /--seed must be a whole number/],
    [['simulate', '--workers', '0'], /--workers must be a whole number from 1/],
    [['simulate', '--backend', 'oracle'], /--backend must be one of memory, sqlite, production/],
    [['simulate', '--ticks', '5', '--until-done'], /not both/],
    [['simulate', '--fault', 'gremlins=0.5'], /--fault must be NAME=RATE/],
    [['simulate', '--scenario', 'no-such-thing'], /unknown scenario "no-such-thing" \(shipped: launch-day, review-queue, storm/],
    [['simulate', '--scenario', '/nope/x.json'], /scenario file \/nope\/x.json does not exist/],
    [['replay'], /give exactly one RUNFILE/],
    [['replay', '/nope/run.jsonl'], /cannot read run file \/nope\/run.jsonl: there is no such file/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [[], /give a command/],
  ])('%j exits 2 with a clear message, no stack trace', async (args, re) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toMatch(re);
    noStack(r.stderr);
  });

  it('a malformed persona file is named with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-cli-'));
    mkdirSync(join(dir, 'personas'));
    writeFileSync(join(dir, 'personas', 'zed.soul.md'), '---\nid: zed\nname: Zed\nmood: grumpy\n---\n');
    writeFileSync(
      join(dir, 'scn.json'),
      JSON.stringify({ name: 'x', personas: ['zed'], campaigns: [{ title: 't', goal: 'g', persona: 'zed' }] }),
    );
    const r = await cli(['simulate', '--scenario', join(dir, 'scn.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'personas', 'zed.soul.md')}:4: unknown key "mood"`);
    noStack(r.stderr);
  });

  it('a malformed scenario names the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chimera-cli-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'x', personas: ['aria'], campaigns: [{ title: 't', goal: 'g', persona: 'aria', content_pieces: -1 }] }));
    const r = await cli(['simulate', '--scenario', join(dir, 'bad.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/campaigns\.0\.content_pieces/);
    writeFileSync(join(dir, 'bad2.json'), '{"name": ');
    const r2 = await cli(['simulate', '--scenario', join(dir, 'bad2.json')]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/not valid JSON/);
  });

  it('runs as a real process through bin/chimera.mjs', () => {
    const out = execFileSync(process.execPath, ['bin/chimera.mjs', 'simulate', '--seed', '2', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(out).seed).toBe(2);
    let code = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['bin/chimera.mjs', 'simulate', '--seed', 'x'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(code).toBe(2);
    expect(stderr).toMatch(/--seed must be a whole number/);
    noStack(stderr);
  });
});
