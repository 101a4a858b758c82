/**
 * Where a transformers.js model lives on disk and whether it is all there, checked before any
 * worker starts so a missing model is one clear message instead of a loader stack trace.
 * Layout (transformers.js' localModelPath): `<model_dir>/<owner>/<name>/config.json`,
 * `tokenizer.json`, `tokenizer_config.json`, `onnx/model_quantized.onnx` or `onnx/model.onnx`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelMissingError } from '../../domain/errors.ts';

const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** The model's own folder under model_dir. */
export function modelFolder(model_dir: string, model: string): string {
  return join(model_dir, ...model.split('/'));
}

/** Which ONNX weights file to load: the quantized one when present (transformers.js' default), else fp32. */
export function pickQuantized(model_dir: string, model: string, prefer: boolean | 'auto'): boolean {
  if (prefer !== 'auto') return prefer;
  return existsSync(join(modelFolder(model_dir, model), 'onnx', 'model_quantized.onnx'));
}

/** Names the model's missing files ([] when complete). */
export function missingModelFiles(model_dir: string, model: string, quantized: boolean | 'auto'): string[] {
  const dir = modelFolder(model_dir, model);
  const missing: string[] = REQUIRED_FILES.filter((f) => !existsSync(join(dir, f)));
  const onnx = join(dir, 'onnx');
  const candidates = quantized === 'auto' ? ['model_quantized.onnx', 'model.onnx'] : [quantized ? 'model_quantized.onnx' : 'model.onnx'];
  if (!candidates.some((f) => existsSync(join(onnx, f)))) missing.push(`onnx/${candidates.join(' or onnx/')}`);
  return missing;
}

/** The error for a model that is not on disk: the folder, what is missing, and two ways to get it. */
export function modelMissingError(model_dir: string, model: string, missing: string[]): ModelMissingError {
  const folder = modelFolder(model_dir, model);
  return new ModelMissingError(
    `embedding model "${model}" is not in ${folder} (missing: ${missing.join(', ')}). ` +
      `Get it by allowing one download (CLI flag --allow-downloads, or "embedder": { "allow_downloads": true } in the config), ` +
      `or copy config.json, tokenizer.json, tokenizer_config.json and onnx/model_quantized.onnx from https://huggingface.co/${model} into that folder.`,
    { model, folder, missing },
  );
}
