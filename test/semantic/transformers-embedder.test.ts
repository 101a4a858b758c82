/**
 * The transformers.js embedder on the tiny generated model: the real loading and inference
 * path (tokenizer, ONNX runtime, mean pooling, normalisation) in a worker thread, offline; the
 * missing-model message; and the composition root's fallback to the hashing embedder.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChimeraError } from '../../src/domain/errors.ts';
import { TransformersEmbedder } from '../../src/adapters/transformers/transformers-embedder.ts';
import { HashingEmbedder } from '../../src/adapters/hashing/hashing-embedder.ts';
import { dot } from '../../src/domain/vectors.ts';
import { parseConfig } from '../../src/config/config.ts';
import { createEmbedder } from '../../src/config/embedders.ts';
import { VirtualClock } from '../../src/sim/clock.ts';
import { TINY_MODEL_DIMENSIONS, TINY_MODEL_ID, writeTinyModel } from '../../bench/support/tiny-model.ts';
import { tempDir } from './semantic-entries.ts';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('tf');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('transformers.js embedder (tiny generated model)', () => {
  for (const quantized of [false, true]) {
    it(`loads offline from the local folder (${quantized ? 'model_quantized.onnx' : 'model.onnx'}) and embeds in batches`, async () => {
      const d = dir();
      writeTinyModel(d, { quantized });
      const e = await TransformersEmbedder.open({ model: TINY_MODEL_ID, model_dir: d, batch_size: 3 });
      try {
        expect(e.dimensions).toBe(TINY_MODEL_DIMENSIONS);
        expect(e.model_id).toBe(quantized ? `${TINY_MODEL_ID}:quantized` : TINY_MODEL_ID);
        const texts = ['coffee beans roasted this morning', 'an espresso in the morning', 'tax filing deadlines', 'a lemon cake recipe', 'baking a lemon cake with sugar', 'guitar concert', 'surf and waves at the beach'];
        const batched = await e.embed(texts);
        expect(batched.length).toBe(texts.length);
        for (const [i, v] of batched.entries()) {
          expect(v.length).toBe(TINY_MODEL_DIMENSIONS);
          expect(Math.sqrt(dot(v, v))).toBeCloseTo(1, 5);
          const [alone] = await e.embed([texts[i]!]);
          expect(dot(v, alone!)).toBeCloseTo(1, 5); // batching and padding change nothing
        }
        const [coffee, espresso, tax, cake, baking] = batched;
        expect(dot(coffee!, espresso!)).toBeGreaterThan(dot(coffee!, tax!));
        expect(dot(cake!, baking!)).toBeGreaterThan(dot(cake!, espresso!));
      } finally {
        await e.close();
      }
    });
  }

  it('serves concurrent callers in order from one worker', async () => {
    const d = dir();
    writeTinyModel(d, { quantized: true });
    const e = await TransformersEmbedder.open({ model: TINY_MODEL_ID, model_dir: d, batch_size: 2 });
    try {
      const texts = Array.from({ length: 12 }, (_, i) => `memory number ${i} about running shoes`);
      const [one, all] = await Promise.all([Promise.all(texts.map((t) => e.embed([t]))), e.embed(texts)]);
      one.forEach(([v], i) => expect(dot(v!, all[i]!)).toBeCloseTo(1, 5));
    } finally {
      await e.close();
    }
    await expect(e.embed(['after close'])).rejects.toThrow(/closed/);
  });

  it('a missing model is MODEL_MISSING naming the folder and how to get it, before any worker starts', async () => {
    const d = dir();
    const err = (await TransformersEmbedder.open({ model: 'Xenova/all-MiniLM-L6-v2', model_dir: d }).catch((x: unknown) => x)) as ChimeraError;
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain(`${d}/Xenova/all-MiniLM-L6-v2`);
    expect(err.message).toMatch(/--allow-downloads/);
    expect(err.message).toMatch(/onnx\/model_quantized\.onnx/);
    expect(err.message).toMatch(/huggingface\.co\/Xenova\/all-MiniLM-L6-v2/);
  });

  it('a model folder with the weights missing names just what is missing', async () => {
    const d = dir();
    const modelDir = writeTinyModel(d, { quantized: true });
    rmSync(`${modelDir}/onnx`, { recursive: true });
    const err = (await TransformersEmbedder.open({ model: TINY_MODEL_ID, model_dir: d }).catch((x: unknown) => x)) as ChimeraError;
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toMatch(/missing: onnx\/model_quantized\.onnx or onnx\/model\.onnx\)/);
  });

  it('a corrupt model file is a clear error, and the shared worker keeps serving other models', async () => {
    const d = dir();
    const modelDir = writeTinyModel(d, { quantized: true });
    writeFileSync(`${modelDir}/onnx/model_quantized.onnx`, 'not an onnx file');
    const err = (await TransformersEmbedder.open({ model: TINY_MODEL_ID, model_dir: d }).catch((x: unknown) => x)) as ChimeraError;
    expect(err.code).toBe('INTERNAL');
    expect(err.message).toMatch(/failed to load from/);
    const good = dir();
    writeTinyModel(good, { quantized: true });
    const e = await TransformersEmbedder.open({ model: TINY_MODEL_ID, model_dir: good });
    expect((await e.embed(['still working']))[0]?.length).toBe(TINY_MODEL_DIMENSIONS);
    await e.close();
  });

  it('the composition root falls back to the hashing embedder and says why', async () => {
    const d = dir();
    const config = parseConfig({ data_dir: d, embedder: { kind: 'transformers', dimensions: 64 } });
    const { embedder, notice } = await createEmbedder(config, { config, clock: new VirtualClock() });
    expect(embedder).toBeInstanceOf(HashingEmbedder);
    expect(embedder.model_id).toBe('hashing-v1-64');
    expect(notice).toMatch(/Xenova\/all-MiniLM-L6-v2/);
    expect(notice).toContain(`${d}/models`);
    expect(notice).toMatch(/hashing embedder \(hashing-v1-64\)/);
    await embedder.close();
  });

  it('the composition root builds the transformers embedder from <data_dir>/models', async () => {
    const d = dir();
    writeTinyModel(`${d}/models`, { quantized: true });
    const config = parseConfig({ data_dir: d, embedder: { kind: 'transformers', model: TINY_MODEL_ID } });
    const { embedder, notice } = await createEmbedder(config, { config, clock: new VirtualClock() });
    try {
      expect(notice).toBeNull();
      expect(embedder).toBeInstanceOf(TransformersEmbedder);
      expect(embedder.dimensions).toBe(TINY_MODEL_DIMENSIONS);
    } finally {
      await embedder.close();
    }
  });
});
