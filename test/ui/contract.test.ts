/**
 * The contract as the core enforces it: every channel refuses a bad argument with a typed
 * VALIDATION error naming the field (generated from the contract, so a new channel is covered
 * without a new test), and errors survive the trip to the wire and back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ConflictError, ValidationError } from '../../src/domain/errors.ts';
import { WIRE_ERROR_CODES, rebuildWireError, toWireError, RemoteError } from '../../src/shared/errors.ts';
import { CHANNEL_NAMES, parseArgs } from '../../src/shared/contract.ts';
import type { ChimeraError } from '../../src/domain/errors.ts';
import { badArguments, openStudio } from './studio-support.ts';

describe('contract', () => {
  it('names every channel namespace/verb in the allowed namespaces', () => {
    for (const c of CHANNEL_NAMES) expect(c).toMatch(/^(sim|campaigns|review|memory|audit|metrics|backend|settings|inspect|copy)\/[a-z]+$/);
  });

  it('keeps the wire error codes equal to the domain error codes', () => {
    expect([...WIRE_ERROR_CODES]).toEqual([...ERROR_CODES]);
  });

  it('round-trips errors as {code, message}', () => {
    const wire = toWireError(new ConflictError('stale read', { entity: 'campaign', id: 'c1', expected: 1, actual: 2 }));
    expect(wire).toMatchObject({ code: 'CONFLICT', message: 'stale read' });
    const back = rebuildWireError(JSON.parse(JSON.stringify(wire)));
    expect(back).toBeInstanceOf(RemoteError);
    expect(back.code).toBe('CONFLICT');
    expect(rebuildWireError({ code: 'NOPE', message: 'x' }).code).toBe('INTERNAL');
    expect(rebuildWireError('garbage').code).toBe('INTERNAL');
    expect(toWireError(new Error('plain'))).toEqual({ code: 'INTERNAL', message: 'plain' });
  });

  it('refuses unknown keys, naming them', () => {
    const r = parseArgs('sim/step', { count: 1, extra: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('extra');
  });
});

describe('studio service: a bad argument on every channel is refused with a typed error', () => {
  let studio: Awaited<ReturnType<typeof openStudio>>;
  beforeAll(async () => {
    studio = await openStudio();
  });
  afterAll(async () => studio.cleanup());

  const cases = badArguments();
  it(`covers every channel (${CHANNEL_NAMES.length} channels, ${cases.length} cases)`, () => {
    expect(new Set(cases.map((c) => c.channel)).size).toBe(CHANNEL_NAMES.length);
  });

  it.each(cases.map((c) => [c.channel, JSON.stringify(c.args), c.field, c.args] as const))('%s refuses %s (names %s)', async (channel, _shown, field, args) => {
    const step = studio.service.status().step;
    const err = await studio.service.invoke(channel, args).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ChimeraError).code).toBe('VALIDATION');
    expect((err as Error).message).toContain(channel);
    expect((err as Error).message).toContain(field);
    // nothing ran
    expect(studio.service.status().step).toBe(step);
  });

  it('refuses an unknown channel with NOT_FOUND', async () => {
    await expect(studio.service.invoke('sim/explode', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
