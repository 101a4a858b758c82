/**
 * Sentence embeddings from a transformers.js feature-extraction pipeline (mean pooling, L2
 * normalisation), default model Xenova/all-MiniLM-L6-v2. Inference runs in the process's
 * embedding worker thread (transformers-worker.mjs) so the UI and the engine never stall on
 * it; texts go over in batches and vectors come back as transferred Float32Arrays.
 *
 * Offline first: the model is read from `model_dir` (localModelPath) and the network is used
 * only when `allow_downloads` is set. A missing model is a ModelMissingError before the worker
 * is asked for anything.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ChimeraError } from '../../domain/errors.ts';
import type { Embedder } from '../../ports/embedder.ts';
import { missingModelFiles, modelFolder, modelMissingError, pickQuantized } from './transformers-model-files.ts';
import { workerRequest } from './transformers-worker-host.ts';

export const DEFAULT_TRANSFORMERS_MODEL = 'Xenova/all-MiniLM-L6-v2';

export interface TransformersEmbedderOptions {
  /** Hugging Face model id, e.g. Xenova/all-MiniLM-L6-v2. */
  readonly model?: string;
  /** Local model folder (transformers.js localModelPath). */
  readonly model_dir: string;
  /** Fetch missing files from the Hugging Face Hub into model_dir. */
  readonly allow_downloads?: boolean;
  /** Load onnx/model_quantized.onnx (true), onnx/model.onnx (false), or whichever is there ('auto'; quantized first). */
  readonly quantized?: boolean | 'auto';
  /** Texts per inference call. */
  readonly batch_size?: number;
}

export class TransformersEmbedder implements Embedder {
  private closed = false;

  private constructor(
    private readonly handle: number,
    readonly model_id: string,
    readonly dimensions: number,
    private readonly batch_size: number,
  ) {}

  /** Checks the model files, has the worker load the model and waits until it answers. */
  static async open(opts: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
    const model = opts.model ?? DEFAULT_TRANSFORMERS_MODEL;
    const allow = opts.allow_downloads ?? false;
    const prefer = opts.quantized ?? 'auto';
    if (!allow) {
      const missing = missingModelFiles(opts.model_dir, model, prefer);
      if (missing.length) throw modelMissingError(opts.model_dir, model, missing);
    }
    // 'auto': the quantized file if present, else fp32 if present, else (downloading) quantized
    const quantized = prefer === 'auto' ? pickQuantized(opts.model_dir, model, 'auto') || !existsSync(join(modelFolder(opts.model_dir, model), 'onnx', 'model.onnx')) : prefer;
    let reply;
    try {
      reply = await workerRequest({ type: 'load', model, model_dir: opts.model_dir, allow_downloads: allow, quantized });
    } catch (e) {
      throw loadError(opts.model_dir, model, allow, e as Error);
    }
    if (reply.type !== 'loaded') throw new ChimeraError('INTERNAL', `embedding worker answered ${reply.type} to a load`);
    return new TransformersEmbedder(reply.handle, quantized ? `${model}:quantized` : model, reply.dimensions, opts.batch_size ?? 32);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.closed) throw new ChimeraError('INTERNAL', 'the embedder is closed');
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batch_size) {
      const batch = texts.slice(i, i + this.batch_size);
      let reply;
      try {
        reply = await workerRequest({ type: 'embed', handle: this.handle, texts: batch });
      } catch (e) {
        throw e instanceof ChimeraError ? e : new ChimeraError('INTERNAL', `embedding failed: ${(e as Error).message}`);
      }
      if (reply.type !== 'result') throw new ChimeraError('INTERNAL', `embedding worker answered ${reply.type} to an embed`);
      const { data, dimensions } = reply;
      for (let j = 0; j < batch.length; j++) out.push(data.slice(j * dimensions, (j + 1) * dimensions));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await workerRequest({ type: 'unload', handle: this.handle }).catch(() => undefined);
  }
}

/** Turns a loader failure into a typed error; "file was not found locally" means the model is missing. */
function loadError(model_dir: string, model: string, allow: boolean, e: Error): ChimeraError {
  if (e instanceof ChimeraError) return e;
  if (/not found locally|Could not locate file|404/i.test(e.message)) {
    return modelMissingError(model_dir, model, [allow ? `a file the Hub did not serve (${e.message})` : e.message]);
  }
  return new ChimeraError('INTERNAL', `embedding model "${model}" failed to load from ${model_dir}: ${e.message}`);
}
