/**
 * `chimera memory import | search | reindex` end to end: a SOUL.md and a JSON-lines file go
 * in, search finds them (filtered), a restart keeps them, reindex moves them to the tiny
 * transformers model, and bad input is one line with exit code 2. One run goes through
 * bin/chimera.mjs (tsx) to show the embedding worker loads outside vitest too.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { TINY_MODEL_ID, writeTinyModel } from '../../bench/support/tiny-model.ts';
import { tempDir } from './semantic-entries.ts';
import { sink } from '../support/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARIA = join(ROOT, 'examples/personas/aria.soul.md');

let cwd: string;
async function chimera(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = sink();
  const stderr = sink();
  const code = await main(argv, { stdout, stderr, env: {}, cwd });
  return { code, out: stdout.text, err: stderr.text };
}
const TINY = ['--embedder', 'transformers', '--model', TINY_MODEL_ID, '--model-dir', 'models'];

beforeAll(() => {
  cwd = tempDir('cli');
  writeTinyModel(join(cwd, 'models'), { quantized: true });
  writeFileSync(
    join(cwd, 'notes.jsonl'),
    [
      JSON.stringify({ content: 'ran a trail marathon in the rain', category: 'Episodic', timestamp: '2026-01-02T00:00:00.000Z' }),
      JSON.stringify({ id: 'fact-1', content: 'recycled plastic sneakers launch next week', category: 'Semantic' }),
      '',
    ].join('\n'),
  );
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('chimera memory', () => {
  it('imports a SOUL.md and JSON lines, searches with filters, and keeps them across runs', async () => {
    const soul = await chimera('memory', 'import', '--persona', 'aria', ARIA, '--json');
    expect(soul.code).toBe(0);
    const s = JSON.parse(soul.out) as { imported: number; memory: string; durable: boolean; model_id: string };
    expect(s).toMatchObject({ memory: 'hnsw', durable: true, model_id: 'hashing-v1-256' });
    expect(s.imported).toBeGreaterThan(3);
    const notes = await chimera('memory', 'import', '--persona', 'aria', 'notes.jsonl');
    expect(notes.code).toBe(0);
    expect(notes.out).toMatch(/imported 2 memories \(jsonl\) for persona aria/);

    const hit = await chimera('memory', 'search', '--persona', 'aria', '--k', '1', 'recycled plastic sneakers', '--json');
    expect(hit.code).toBe(0);
    expect((JSON.parse(hit.out) as { hits: { id: string }[] }).hits.map((h) => h.id)).toEqual(['fact-1']);
    const soulOnly = JSON.parse((await chimera('memory', 'search', '--persona', 'aria', '--category', 'SOUL', '--k', '50', 'sneakers', '--json')).out) as {
      hits: { category: string }[];
    };
    // the whole SOUL.md is the one SOUL memory; its voice, style and belief lines are Semantic
    expect(soulOnly.hits.length).toBe(1);
    expect(new Set(soulOnly.hits.map((h) => h.category))).toEqual(new Set(['SOUL']));
    const semantic = JSON.parse((await chimera('memory', 'search', '--persona', 'aria', '--category', 'Semantic', '--k', '50', 'sneakers', '--json')).out) as {
      hits: { id: string; category: string }[];
    };
    expect(semantic.hits.filter((h) => h.id.startsWith('soul:aria:')).length).toBe(s.imported - 1);
    const table = await chimera('memory', 'search', '--persona', 'aria', 'marathon in the rain');
    expect(table.out.split('\n')[0]).toMatch(/^\d\.\d{3}\s+Episodic\s+mem:/);
    expect(readFileSync(join(cwd, '.data/persona-memory/index.json'), 'utf8')).toMatch(/hashing-v1-256/);
  });

  it('reindex re-embeds everything under the new model; searching with the old one is refused clearly', async () => {
    const before = JSON.parse((await chimera('memory', 'search', '--persona', 'aria', '--k', '50', 'x', '--json')).out) as { hits: unknown[] };
    const r = await chimera('memory', 'reindex', ...TINY, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ reindexed: before.hits.length, from_model_id: 'hashing-v1-256', model_id: `${TINY_MODEL_ID}:quantized`, dimensions: 32 });
    const again = await chimera('memory', 'reindex', ...TINY);
    expect(again.out).toMatch(/already use .*nothing to do/);
    const hit = await chimera('memory', 'search', '--persona', 'aria', '--k', '1', ...TINY, 'recycled plastic sneakers', '--json');
    expect((JSON.parse(hit.out) as { hits: { id: string }[] }).hits.map((h) => h.id)).toEqual(['fact-1']);
    const old = await chimera('memory', 'search', '--persona', 'aria', 'sneakers');
    expect(old.code).toBe(2);
    expect(old.err).toMatch(/embedded with chimera-test\/tiny-bert:quantized .*chimera memory reindex/);
    expect(old.err).not.toMatch(/\n\s+at /);
  });

  it('bad input is one line and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['memory', 'search', 'text'], /--persona ID is required/],
      [['memory', 'search', '--persona', 'aria', '--category', 'Dream', 'x'], /--category must be one of Episodic, Semantic, SOUL/],
      [['memory', 'search', '--persona', 'aria', '--k', '0', 'x'], /--k must be a whole number/],
      [['memory', 'import', '--persona', 'bo', ARIA], /declares persona "aria" but --persona is "bo"/],
      [['memory', 'import', '--persona', 'aria', 'nope.jsonl'], /cannot read/],
      [['memory', 'search', '--persona', 'aria', '--embedder', 'nope', 'x'], /--embedder must be one of hashing, transformers/],
    ];
    writeFileSync(join(cwd, 'bad.jsonl'), '{"content": "ok"}\n{"content": ""}\n');
    cases.push([['memory', 'import', '--persona', 'aria', 'bad.jsonl'], /bad\.jsonl:2: .*content is empty/]);
    for (const [argv, msg] of cases) {
      const r = await chimera(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('runs through bin/chimera.mjs (tsx), embedding worker included', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'bin/chimera.mjs'), 'memory', 'search', '--persona', 'aria', '--k', '1', ...TINY, 'trail marathon', '--json'],
      { cwd, env: { ...process.env, CHIMERA_DATA_DIR: '' }, timeout: 60_000 },
    );
    expect((JSON.parse(stdout) as { model_id: string; hits: { content: string }[] }).hits[0]?.content).toBe('ran a trail marathon in the rain');
  });
});
