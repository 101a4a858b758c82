import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseSoulMd } from '../../src/domain/persona.ts';
import { canTransitionCampaign, canTransitionTask, assertTaskTransition } from '../../src/domain/status.ts';
import { canonicalJson } from '../../src/domain/canonical-json.ts';
import { ANCHOR_ACTION, hashAuditEvent, sealAuditEvent, verifyAuditChain, GENESIS_HASH } from '../../src/domain/audit.ts';
import { ChimeraError, rebuildError, serializeError, ValidationError } from '../../src/domain/errors.ts';
import { SeededRng } from '../../src/domain/seeded-rng.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { fixtures } from '../support/fixtures.ts';
import type { AuditDraft, AuditEvent } from '../../src/domain/schemas.ts';

describe('SOUL.md personas', () => {
  it('parses the shipped personas', () => {
    for (const id of ['aria', 'kofi', 'mira']) {
      const p = parseSoulMd(readFileSync(`examples/personas/${id}.soul.md`, 'utf8'), `${id}.soul.md`);
      expect(p.id).toBe(id);
      expect(p.voice.length).toBeGreaterThan(0);
      expect(p.beliefs.length).toBeGreaterThan(0);
      expect(p.vocabulary.length).toBeGreaterThan(5);
      expect(p.forbidden_words.length).toBeGreaterThan(0);
    }
  });

  it('derives a vocabulary from voice and beliefs when none is given', () => {
    const p = parseSoulMd('---\nid: x\nname: X\n---\n## Voice\n- loves mountain bikes\n## Beliefs\n- gravel roads are freedom\n');
    expect(p.vocabulary).toEqual(['loves', 'mountain', 'bikes', 'gravel', 'roads', 'freedom']);
  });

  it.each([
    ['no front matter', '# just markdown', /SOUL.md:1: expected a front-matter block/],
    ['unclosed front matter', '---\nid: x\n', /not closed/],
    ['unknown key', '---\nid: x\nname: X\ncolour: red\n---\n', /SOUL.md:4: unknown key "colour"/],
    ['bad list', '---\nid: x\nname: X\nforbidden_words: crypto\n---\n', /forbidden_words must be a list/],
    ['bad id', '---\nid: Not OK\nname: X\n---\n', /id must be lowercase/],
    ['missing name', '---\nid: x\n---\n', /name/],
  ])('refuses %s with a message naming the file and line', (_name, text, re) => {
    expect(() => parseSoulMd(text, 'SOUL.md')).toThrow(re);
    expect(() => parseSoulMd(text, 'SOUL.md')).toThrow(ValidationError);
  });
});

describe('status machines', () => {
  it('campaigns: PLANNING → ACTIVE ⇄ PAUSED → … → COMPLETED only', () => {
    expect(canTransitionCampaign('PLANNING', 'ACTIVE')).toBe(true);
    expect(canTransitionCampaign('ACTIVE', 'PAUSED')).toBe(true);
    expect(canTransitionCampaign('PAUSED', 'ACTIVE')).toBe(true);
    expect(canTransitionCampaign('ACTIVE', 'COMPLETED')).toBe(true);
    expect(canTransitionCampaign('PLANNING', 'COMPLETED')).toBe(false);
    expect(canTransitionCampaign('COMPLETED', 'ACTIVE')).toBe(false);
    expect(canTransitionCampaign('ACTIVE', 'ACTIVE')).toBe(false);
  });
  it('tasks: terminal states stay terminal; an illegal move is a typed error', () => {
    expect(canTransitionTask('PENDING', 'PROCESSING')).toBe(true);
    expect(canTransitionTask('PROCESSING', 'ESC_HITL')).toBe(true);
    expect(canTransitionTask('ESC_HITL', 'COMPLETED')).toBe(true);
    expect(canTransitionTask('COMPLETED', 'PENDING')).toBe(false);
    expect(canTransitionTask('PENDING', 'COMPLETED')).toBe(false);
    try {
      assertTaskTransition('t1', 'FAILED', 'COMPLETED');
      expect.unreachable();
    } catch (e) {
      expect((e as ChimeraError).code).toBe('ILLEGAL_TRANSITION');
      expect((e as Error).message).toBe('task t1: illegal transition FAILED → COMPLETED');
    }
  });
});

describe('audit hash chains', () => {
  /** Seals drafts the way a store does: after the head of each event's own chain, at the next store position. */
  function seal(drafts: AuditDraft[]): AuditEvent[] {
    const heads = new Map<string, { chain_seq: number; hash: string }>();
    return drafts.map((d, i) => {
      const e = sealAuditEvent(heads.get(d.campaign_id ?? '') ?? null, d, i + 1);
      heads.set(d.campaign_id ?? '', { chain_seq: e.chain_seq, hash: e.hash });
      return e;
    });
  }
  const f = fixtures(3);
  const A = f.rng.uuid();
  const B = f.rng.uuid();
  const anchor = (heads: Record<string, { chain_seq: number; hash: string }>): AuditDraft =>
    f.audit({ campaign_id: null, action: ANCHOR_ACTION, entity_type: 'system', entity_id: 'run', details: { heads } });

  it('keeps one chain per campaign, each from its own genesis, interleaved in the log', () => {
    const log = seal([0, 1, 2, 3, 4, 5].map((i) => f.audit({ campaign_id: i % 2 ? B : A, details: { i } })));
    expect(log.map((e) => [e.seq, e.chain_seq])).toEqual([[1, 1], [2, 1], [3, 2], [4, 2], [5, 3], [6, 3]]);
    expect(log[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(log[1]!.prev_hash).toBe(GENESIS_HASH);
    expect(log[2]!.prev_hash).toBe(log[0]!.hash);
    expect(verifyAuditChain(log)).toMatchObject({ ok: true, checked: 6, chains: 2 });
  });

  it("a chain's hashes do not depend on how other campaigns interleave with it", () => {
    const a = [0, 1, 2].map((i) => f.audit({ campaign_id: A, details: { i } }));
    const b = [0, 1, 2].map((i) => f.audit({ campaign_id: B, details: { i } }));
    const one = seal([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!]);
    const two = seal([a[0]!, a[1]!, b[0]!, b[1]!, b[2]!, a[2]!]);
    const hashes = (log: AuditEvent[], c: string) => log.filter((e) => e.campaign_id === c).map((e) => e.hash);
    expect(hashes(two, A)).toEqual(hashes(one, A));
    expect(hashes(two, B)).toEqual(hashes(one, B));
  });

  it('detects an edited, dropped, reordered or moved event', () => {
    const log = seal([0, 1, 2, 3, 4, 5].map((i) => f.audit({ campaign_id: i % 2 ? B : A, details: { i } })));
    expect(verifyAuditChain(log.filter((e) => e.seq !== 3))).toMatchObject({ ok: false, broken_at: 5 });
    expect(verifyAuditChain([log[0]!, log[1]!, { ...log[4]!, seq: 3 }, { ...log[2]!, seq: 5 }])).toMatchObject({ ok: false, broken_at: 3 });
    expect(verifyAuditChain(log.map((e) => (e.seq === 4 ? { ...e, actor: 'mallory' } : e)))).toMatchObject({ ok: false, broken_at: 4, reason: expect.stringMatching(/edited/) });
    expect(verifyAuditChain(log.map((e) => (e.seq === 5 ? { ...e, campaign_id: B } : e)))).toMatchObject({ ok: false, broken_at: 5 });
    // a page verifies from where the verification of the pages before it stopped
    const first = verifyAuditChain(log.slice(0, 3));
    expect(verifyAuditChain(log.slice(3), first.heads)).toMatchObject({ ok: true, checked: 3 });
  });

  it('anchors bind the heads of every chain: a rewritten tail the anchor vouched for is caught', () => {
    const drafts = [f.audit({ campaign_id: A }), f.audit({ campaign_id: B }), f.audit({ campaign_id: A })];
    const base = seal(drafts);
    const heads = { [A]: { chain_seq: 2, hash: base[2]!.hash }, [B]: { chain_seq: 1, hash: base[1]!.hash } };
    const log = seal([...drafts, anchor(heads), f.audit({ campaign_id: B })]);
    expect(verifyAuditChain(log)).toMatchObject({ ok: true, anchors: 1, chains: 3 });
    // campaign A's chain resealed from its second event on, every link consistent: only the anchor knows
    const forgedA = seal([drafts[0]!, drafts[1]!, { ...drafts[2]!, actor: 'mallory' }]);
    const forged = [forgedA[0]!, forgedA[1]!, forgedA[2]!, log[3]!, log[4]!];
    expect(verifyAuditChain(forged)).toMatchObject({ ok: false, broken_at: 4, reason: expect.stringMatching(/anchor's head of campaign .* does not match/) });
    // an anchor naming an event the log does not hold
    const ahead = seal([f.audit({ campaign_id: A }), anchor({ [A]: { chain_seq: 2, hash: base[2]!.hash } })]);
    expect(verifyAuditChain(ahead)).toMatchObject({ ok: false, broken_at: 2, reason: expect.stringMatching(/not in the log before it/) });
  });

  it('still verifies the global chain of events written before chains were per campaign (chain_seq 0)', () => {
    const legacy: AuditEvent[] = [];
    let prev: { seq: number; hash: string } | null = null;
    for (let i = 1; i <= 3; i++) {
      const rest: Omit<AuditEvent, 'hash'> = { ...f.audit({ campaign_id: i % 2 ? A : B, details: { i } }), seq: i, chain_seq: 0, prev_hash: prev?.hash ?? GENESIS_HASH };
      const e: AuditEvent = { ...rest, hash: hashAuditEvent(rest) };
      legacy.push(e);
      prev = e;
    }
    const after = seal([...legacy.map(() => f.audit()), f.audit({ campaign_id: A })]).slice(3);
    expect(verifyAuditChain([...legacy, ...after])).toMatchObject({ ok: true, checked: 4 });
    expect(verifyAuditChain([legacy[0]!, legacy[2]!])).toMatchObject({ ok: false, broken_at: 3 });
  });
});

describe('determinism primitives', () => {
  it('rng: the same seed and label give the same stream; forks are independent', () => {
    const a = new SeededRng(5, 'x');
    const b = new SeededRng(5, 'x');
    expect(Array.from({ length: 5 }, () => a.nextU32())).toEqual(Array.from({ length: 5 }, () => b.nextU32()));
    expect(new SeededRng(5, 'x').fork('w1').uuid()).toBe(new SeededRng(5, 'x').fork('w1').uuid());
    expect(new SeededRng(5, 'x').fork('w1').uuid()).not.toBe(new SeededRng(5, 'x').fork('w2').uuid());
    expect(new SeededRng(5).uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('virtual clock moves only when told, never backwards', () => {
    const c = new VirtualClock(0);
    expect(c.iso()).toBe('1970-01-01T00:00:00.000Z');
    c.advance(1500);
    expect(c.now_ms()).toBe(1500);
    expect(() => c.set(1000)).toThrow(/backwards/);
  });
  it('errors cross boundaries as {code, message} and are rebuilt', () => {
    const s = serializeError(new ValidationError('bad title', { field: 'title' }));
    expect(s).toEqual({ code: 'VALIDATION', message: 'bad title', details: { field: 'title' } });
    const back = rebuildError(s);
    expect(back).toBeInstanceOf(ChimeraError);
    expect(back.code).toBe('VALIDATION');
    expect(serializeError(new TypeError('x'))).toEqual({ code: 'INTERNAL', message: 'x' });
  });
});

describe('audit hashing fast path', () => {
  it('hashes exactly the canonical JSON of the event', async () => {
    const { createHash } = await import('node:crypto');
    const { hashAuditEvent } = await import('../../src/domain/audit.ts');
    const f = fixtures(9);
    const e = sealAuditEvent(null, f.audit({ details: { z: [1, { b: 2, a: 1 }], a: 'x' } }), 7);
    const { hash, seq, ...rest } = e;
    expect(seq).toBe(7);
    // the store position is not hashed: a chain's hashes do not depend on other chains
    expect(hash).toBe(createHash('sha256').update(canonicalJson(rest)).digest('hex'));
    expect(hashAuditEvent({ ...rest, seq, extra: 1 } as never)).toBe(createHash('sha256').update(canonicalJson({ ...rest, extra: 1 })).digest('hex'));
  });
});

describe('canonical JSON: the fast path equals the reference', () => {
  it('on random nested values, integer-like keys, unicode and non-finite numbers (seeded)', async () => {
    const { canonicalJsonSlow } = await import('../../src/domain/canonical-json.ts');
    const rng = new SeededRng(77, 'canonical');
    const keyPool = ['b', 'a', 'Z', 'é', '10', '9', 'x y', '"q"', 'aa', '0'];
    const gen = (depth: number): unknown => {
      const r = rng.next();
      if (depth > 3 || r < 0.3) return rng.pick(['s', 'ünï ✓', 'line\nbreak', 1, -0.5, 1e21, Number.NaN, Infinity, true, false, null, undefined]);
      if (r < 0.55) return Array.from({ length: rng.int(4) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) o[rng.pick(keyPool)] = gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 2000; i++) {
      const v = gen(0);
      expect(canonicalJson(v)).toBe(canonicalJsonSlow(v));
    }
  });
});

describe("the simulated reviewer's edit", () => {
  it('drops exactly the sentences the Judge flags', async () => {
    const { redactFlagged, sensitiveTopics } = await import('../../src/engine/judge.ts');
    const persona = { id: 'aria', name: 'Aria', vocabulary: [], forbidden_words: ['cheap'], forbidden_topics: ['politics'], style_rules: [] };
    const text = 'Repair beats replace. Guaranteed returns of 20 percent! Thrift is cheap fun. Denim lasts.';
    const out = redactFlagged(text, persona);
    expect(out).toBe('Repair beats replace. Denim lasts.');
    expect(sensitiveTopics(out, persona)).toEqual([]);
  });
});
