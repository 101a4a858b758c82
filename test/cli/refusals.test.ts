/**
 * What each refusal says, and that it comes before any work: the CLI fuzz test checks the
 * shape of every refusal (exit 2, one line, no file touched); these check the words for the
 * cases the issue "Runs you can trust" listed, and the fixes behind them (--ticks, run files,
 * persona ids, the production profile).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { readRunFile } from '../../src/app/simulation.ts';
import { PersonaIdSchema, personaIdProblem } from '../../src/domain/schemas.ts';
import { parseSoulMd } from '../../src/domain/persona.ts';
import { CHANNELS } from '../../src/shared/contract.ts';

let dir: string;

async function chimera(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => ({ write: (c: string | Uint8Array) => (add(String(c)), true) }) as unknown as NodeJS.WritableStream;
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'DATABASE_MODE' && !k.startsWith('CHIMERA_')) base[k] = v;
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env: { ...base, ...env }, cwd: dir });
  return { code, out, err };
}

/** A refusal: exit 2 and one line on stderr matching `re`. */
async function refused(argv: string[], re: RegExp | string, env: Record<string, string> = {}): Promise<string> {
  const r = await chimera(argv, env);
  expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(2);
  expect(r.err.split('\n'), r.err).toHaveLength(2);
  expect(r.err).toMatch(re);
  expect(r.out).toBe('');
  return r.err;
}

const files = () => readdirSync(dir).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chimera-refusals-'));
  const r = await chimera(['simulate', '--scenario', 'storm', '--seed', '3', '--ticks', '5', '--out', 'run.jsonl', '--json']);
  expect(r.code, r.err).toBe(0);
  mkdirSync(join(dir, 'adir'));
  writeFileSync(join(dir, 'empty.db'), '');
});

describe('refusals name the problem in one line', () => {
  it('numbers: negative values and ranges are checked per option, with the option named', async () => {
    await refused(['simulate', '--seed', '-1'], '--seed must be a whole number from 0 to 2147483647, got "-1"');
    await refused(['simulate', '--workers=-3'], '--workers must be a whole number from 1 to 256, got "-3"');
    await refused(['simulate', '--ticks', '1.5'], '--ticks must be a whole number from 1 to 10000000, got "1.5"');
    await refused(['replay', 'run.jsonl', '--to', '-1'], '--to must be a whole number from 0');
    await refused(['simulate', '--seed'], 'chimera simulate: --seed needs a value');
    await refused(['simulate', '--seed', '--json'], '--seed needs a value (for a value that starts with "-", write --seed=VALUE)');
    await refused(['simulate', '--seed', '1', '--seed', '2'], '--seed is given more than once');
    await refused(['simulate', '--scenario', ''], '--scenario needs a value, got an empty one');
  });

  it('no usage block: unknown commands and flags are one line; usage only with --help', async () => {
    await refused([], 'chimera: give a command (run "chimera --help" for the list)');
    await refused(['frobnicate', '--x'], /^chimera: unknown command "frobnicate" \(commands: simulate, replay, export, import, memory import/);
    await refused(['memory', 'forget'], 'unknown command "memory forget"');
    await refused(['export', '--bogus'], 'chimera export: unknown option "--bogus" (see "chimera export --help")');
    const help = await chimera(['simulate', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage:\n {2}chimera simulate/);
    expect(help.err).toBe('');
  });

  it('control and bidi characters in what a message repeats are escaped', async () => {
    const err = await refused(['memory', 'search', '--persona', 'ari\u202ea', 'x'], /--persona "ari\\u\{202e\}a": a persona id must not contain bidi control characters/);
    expect(err).not.toContain('\u202e');
    await refused(['fr\u001b[31mob'], 'unknown command "fr\\u{1b}[31mob"');
  });

  it('a read command never creates or changes a missing or empty database', async () => {
    await refused(['export', '--backend', 'sqlite', '--db', 'empty.db'], /--db .*empty\.db is an empty file, not a database/);
    await refused(['memory', 'search', '--db', 'missing.db', '--persona', 'aria', 'denim'], /no database at .*missing\.db/);
    await refused(['memory', 'reindex', '--db', 'adir'], /adir is a folder, not a database file/);
    await refused(['memory', 'search', '--persona', 'aria', 'denim'], /no database at .*\.data\/chimera\.db/);
    expect(statSync(join(dir, 'empty.db')).size).toBe(0);
    expect(files()).toEqual(['adir', 'empty.db', 'run.jsonl']);
  });

  it('output paths are checked before any work: nothing is created, not even the database', async () => {
    await refused(['simulate', '--backend', 'sqlite', '--db', 'new.db', '--out', 'adir'], /--out .*adir is a folder; give a file name/);
    await refused(['simulate', '--out', 'nodir/run.jsonl'], /--out .*nodir\/run\.jsonl: folder .*nodir does not exist/);
    await refused(['simulate', '--scenario', 'run.jsonl', '--out', 'run.jsonl'], /unknown scenario|is also an input/);
    await refused(['simulate', '--backend', 'sqlite', '--db', 'run.jsonl', '--out', 'run.jsonl'], /--out .*run\.jsonl is also an input of this command/);
    expect(files()).toEqual(['adir', 'empty.db', 'run.jsonl']);
  });

  it('--db with a backend that keeps no file is refused, and the file is not created', async () => {
    await refused(['simulate', '--backend', 'memory', '--db', 'x.db'], '--db applies to --backend sqlite only');
    await refused(['simulate', '--db', 'x.db'], '--db applies to --backend sqlite only');
    await refused(['memory', 'search', '--backend', 'memory', '--db', 'x.db', '--persona', 'aria', 'q'], /no database at|--db applies to the sqlite backend only/);
    expect(existsSync(join(dir, 'x.db'))).toBe(false);
  });

  it('the production profile: says what to set, then which server does not answer; unknown modes name the allowed ones', async () => {
    await refused(['simulate'], /needs its connection settings: set CHIMERA_POSTGRES_URL and CHIMERA_REDIS_URL \(CHIMERA_WEAVIATE_URL is optional\)/, { DATABASE_MODE: 'production' });
    await refused(['simulate', '--backend', 'production'], /set CHIMERA_POSTGRES_URL and CHIMERA_REDIS_URL/);
    await refused(['simulate'], /set CHIMERA_REDIS_URL \(/, { DATABASE_MODE: 'production', CHIMERA_POSTGRES_URL: 'postgres://127.0.0.1/chimera' });
    // nothing listens on port 1: the message names the server, never the password
    const settings = { CHIMERA_POSTGRES_URL: 'postgres://chimera:s3cret@127.0.0.1:1/chimera', CHIMERA_REDIS_URL: 'redis://127.0.0.1:6379' };
    const r = await refused(['simulate'], 'chimera simulate: Postgres at 127.0.0.1:1/chimera (schema public): connection refused (is the server running and listening there?)', { DATABASE_MODE: 'production', ...settings });
    expect(JSON.stringify(r)).not.toContain('s3cret');
    await refused(['worker', '--backend', 'production'], /Postgres at 127\.0\.0\.1:1\/chimera/, settings);
    await refused(['simulate'], 'DATABASE_MODE must be one of in-memory, sqlite, production, got "mongo"', { DATABASE_MODE: 'mongo' });
  });

  it('a scenario naming a campaign that does not exist is refused, naming the field', async () => {
    const scn = (o: object) => JSON.stringify({ name: 's', personas: ['aria'], campaigns: [{ title: 't', goal: 'g', persona: 'aria' }], ...o });
    writeFileSync(join(dir, 'c7.json'), scn({ operator: [{ tick: 1, action: 'pause', campaign: 7 }] }));
    await refused(['simulate', '--scenario', 'c7.json'], /c7\.json: operator\.0\.campaign: campaign 7 does not exist \(the scenario has 1 campaign, numbered from 0 to 0\)/);
    writeFileSync(join(dir, 'trav.json'), scn({ personas: ['../../etc'] }));
    await refused(['simulate', '--scenario', 'trav.json'], /trav\.json: personas\.0: a persona id must not contain a path separator/);
    writeFileSync(join(dir, 'trav-md.json'), scn({ personas: ['../outside.soul.md'] }));
    await refused(['simulate', '--scenario', 'trav-md.json'], /personas\.0: "\.\.\/outside\.soul\.md" must be a SOUL\.md path inside the scenario's folder/);
    writeFileSync(join(dir, 'mem.json'), scn({ memories: [{ persona: 'kofi', category: 'Episodic', content: 'x' }] }));
    await refused(['simulate', '--scenario', 'mem.json'], /memories\.0\.persona: persona "kofi" is not in personas/);
    await refused(['simulate', '--scenario', 'adir/'], /scenario .*adir\/? is a folder, not a file/);
  });

  it('a run file cut at a line boundary, or whose summary disagrees with its events, is refused as truncated', async () => {
    const text = readFileSync(join(dir, 'run.jsonl'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(readRunFile(join(dir, 'run.jsonl')).events.length).toBe(lines.length - 2);
    writeFileSync(join(dir, 'cut.jsonl'), lines.slice(0, -1).join('\n') + '\n');
    await refused(['replay', 'cut.jsonl'], /cut\.jsonl: truncated run file: no summary line after its \d+ events/);
    writeFileSync(join(dir, 'cut2.jsonl'), lines.slice(0, 10).join('\n') + '\n');
    await refused(['replay', 'cut2.jsonl'], /truncated run file: no summary line after its 9 events/);
    writeFileSync(join(dir, 'gap.jsonl'), [...lines.slice(0, -3), lines.at(-1)].join('\n') + '\n');
    await refused(['replay', 'gap.jsonl'], /truncated run file: the summary counts \d+ steps but the events end at step \d+/);
    writeFileSync(join(dir, 'mid.jsonl'), text.slice(0, text.length - 40));
    await refused(['replay', 'mid.jsonl'], /mid\.jsonl:\d+: truncated run file: its last line is cut short/);
    writeFileSync(join(dir, 'edit.jsonl'), text.replace('"judge.decided"', '"task.retry"'));
    await refused(['replay', 'edit.jsonl'], /the events do not match the summary's eventLogSha256/);
    const header = JSON.parse(lines[0] as string) as { scenario: { operator: unknown[] } };
    header.scenario.operator = [{ tick: 1, action: 'pause', campaign: 7 }];
    writeFileSync(join(dir, 'op7.jsonl'), [JSON.stringify(header), ...lines.slice(1)].join('\n') + '\n');
    await refused(['replay', 'op7.jsonl'], /op7\.jsonl:1: scenario: operator\.0\.campaign: campaign 7 does not exist/);
    const ok = await chimera(['replay', 'run.jsonl', '--json']);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out).replayOk).toBe(true);
  });
});

describe('--ticks N stops at tick N', () => {
  it.each([3, 8, 12, 20])('--ticks %i with slow workers (idle ticks): the summary says so, and no event is past it', async (n) => {
    const r = await chimera(['simulate', '--scenario', 'storm', '--fault', 'slow_worker=0.9', '--ticks', String(n), '--out', `t${n}.jsonl`, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).ticks).toBe(n);
    const events = readRunFile(join(dir, `t${n}.jsonl`)).events;
    expect(Math.max(...events.map((e) => e.tick))).toBeLessThan(n);
  });

  it('a resumed SQLite run with the same --ticks ends where it is (the same command twice is one run)', async () => {
    const a = await chimera(['simulate', '--backend', 'sqlite', '--db', 'ticks.db', '--scenario', 'storm', '--ticks', '6', '--json']);
    const b = await chimera(['simulate', '--backend', 'sqlite', '--db', 'ticks.db', '--scenario', 'storm', '--ticks', '6', '--json']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(b.out).ticks).toBe(6);
    expect(JSON.parse(b.out).eventLogSha256).toBe(JSON.parse(a.out).eventLogSha256);
  });
});

describe('one persona id rule everywhere', () => {
  it.each([
    ['../../etc', 'path separator'],
    ['..', '".."'],
    ['a\\b', 'path separator'],
    ['ari\u202ea', 'bidi control'],
    ['a\u2066b', 'bidi control'],
    ['a\u200fb', 'bidi control'],
    ['a\nb', 'control characters'],
    ['x'.repeat(65), 'at most 64 characters'],
    ['', 'must not be empty'],
    ['Aria', 'lowercase letters'],
  ])('%j is refused (%s)', (id, why) => {
    expect(personaIdProblem(id)).toContain(why);
    expect(PersonaIdSchema.safeParse(id).success).toBe(false);
  });

  it('accepts the shipped ids and refuses bad ones in SOUL.md, the CLI and the app contract', async () => {
    for (const id of ['aria', 'kofi', 'mira', 'p0', 'brand_voice-2']) expect(personaIdProblem(id)).toBeNull();
    expect(() => parseSoulMd('---\nid: ../x\nname: X\n---\n', 'x.soul.md')).toThrow(/x\.soul\.md: id: a persona id must not contain a path separator/);
    await refused(['memory', 'import', '--persona', '../../etc', 'x.md'], '--persona "../../etc": a persona id must not contain a path separator');
    const create = CHANNELS['campaigns/create'].args.safeParse({ title: 't', goal: 'g', persona_id: '../../etc' });
    expect(create.success).toBe(false);
    expect(CHANNELS['memory/add'].args.safeParse({ persona_id: 'a\u202eb', content: 'x', category: 'Episodic' }).success).toBe(false);
    expect(CHANNELS['memory/search'].args.safeParse({ query: 'q', persona_id: 'aria' }).success).toBe(true);
  });
});
