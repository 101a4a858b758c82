/**
 * Sentence embeddings from a transformers.js feature-extraction pipeline (mean pooling, L2
 * normalisation), default model Xenova/all-MiniLM-L6-v2. Inference runs in a worker thread
 * (transformers-worker.mjs) so the UI and the engine never stall on it; texts go over in
 * batches and vectors come back as transferred Float32Arrays.
 *
 * Offline first: the model is read from `model_dir` (localModelPath) and the network is used
 * only when `allow_downloads` is set. A missing model is a ModelMissingError before any worker
 * starts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ChimeraError } from '../../domain/errors.ts';
import type { Embedder } from '../../ports/embedder.ts';
import { missingModelFiles, modelFolder, modelMissingError, pickQuantized } from './transformers-model-files.ts';

export const DEFAULT_TRANSFORMERS_MODEL = 'Xenova/all-MiniLM-L6-v2';

export interface TransformersEmbedderOptions {
  /** Hugging Face model id, e.g. Xenova/all-MiniLM-L6-v2. */
  readonly model?: string;
  /** Local model folder (transformers.js localModelPath). */
  readonly model_dir: string;
  /** Fetch missing files from the Hugging Face Hub into model_dir. */
  readonly allow_downloads?: boolean;
  /** Load onnx/model_quantized.onnx (true), onnx/model.onnx (false), or whichever is there ('auto'). */
  readonly quantized?: boolean | 'auto';
  /** Texts per inference call. */
  readonly batch_size?: number;
  /** How long model loading may take before it is abandoned. */
  readonly load_timeout_ms?: number;
}

type WorkerReply =
  | { type: 'ready'; dimensions: number }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dimensions: number }
  | { type: 'error'; id: number; message: string };

interface Pending {
  resolve: (r: { data: Float32Array; dimensions: number }) => void;
  reject: (e: Error) => void;
}

const WORKER_URL = new URL('./transformers-worker.mjs', import.meta.url);

export class TransformersEmbedder implements Embedder {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly model_id: string,
    readonly dimensions: number,
    private readonly batch_size: number,
  ) {
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(new ChimeraError('INTERNAL', `embedding worker crashed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(new ChimeraError('INTERNAL', `embedding worker exited (code ${code})`));
    });
    worker.unref();
  }

  /** Checks the model files, starts the worker and waits until the model answers. */
  static async open(opts: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
    const model = opts.model ?? DEFAULT_TRANSFORMERS_MODEL;
    const allow = opts.allow_downloads ?? false;
    const prefer = opts.quantized ?? 'auto';
    if (!allow) {
      const missing = missingModelFiles(opts.model_dir, model, prefer);
      if (missing.length) throw modelMissingError(opts.model_dir, model, missing);
    }
    // 'auto': the quantized file if present, else fp32 if present, else (downloading) quantized
    const quantized = prefer === 'auto' ? pickQuantized(opts.model_dir, model, 'auto') || !hasFp32(opts.model_dir, model) : prefer;
    const worker = new Worker(WORKER_URL, {
      workerData: { model, model_dir: opts.model_dir, allow_downloads: allow, quantized },
      stdout: false,
      stderr: true,
    });
    // the loader warns on stderr about every file it cannot find locally; keep that out of the CLI
    worker.stderr?.resume();
    const timeout_ms = opts.load_timeout_ms ?? 120_000;
    const dimensions = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new ChimeraError('INTERNAL', `embedding model "${model}" did not load within ${timeout_ms} ms`));
      }, timeout_ms);
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMsg);
        worker.off('error', onErr);
      };
      const onMsg = (m: WorkerReply) => {
        if (m.type === 'ready') {
          done();
          resolve(m.dimensions);
        } else if (m.type === 'fatal') {
          done();
          void worker.terminate();
          reject(loadError(opts.model_dir, model, allow, m.message));
        }
      };
      const onErr = (e: Error) => {
        done();
        reject(new ChimeraError('INTERNAL', `embedding worker failed to start: ${e.message}`));
      };
      worker.on('message', onMsg);
      worker.on('error', onErr);
    });
    const model_id = quantized ? `${model}:quantized` : model;
    return new TransformersEmbedder(worker, model_id, dimensions, opts.batch_size ?? 32);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.closed) throw new ChimeraError('INTERNAL', 'the embedder is closed');
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batch_size) {
      const batch = texts.slice(i, i + this.batch_size);
      const { data, dimensions } = await this.request(batch);
      for (let j = 0; j < batch.length; j++) out.push(data.slice(j * dimensions, (j + 1) * dimensions));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new ChimeraError('INTERNAL', 'the embedder was closed'));
    await this.worker.terminate();
  }

  private request(texts: string[]): Promise<{ data: Float32Array; dimensions: number }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // keep the process alive while an answer is owed
      this.worker.postMessage({ type: 'embed', id, texts });
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return p;
  }

  private onReply(m: WorkerReply): void {
    if (m.type === 'result') this.settle(m.id)?.resolve({ data: m.data, dimensions: m.dimensions });
    else if (m.type === 'error') this.settle(m.id)?.reject(new ChimeraError('INTERNAL', `embedding failed: ${m.message}`));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
  }
}

function hasFp32(model_dir: string, model: string): boolean {
  return existsSync(join(modelFolder(model_dir, model), 'onnx', 'model.onnx'));
}

/** Turns a loader failure into a typed error; "file was not found locally" means the model is missing. */
function loadError(model_dir: string, model: string, allow: boolean, message: string): ChimeraError {
  if (/not found locally|Could not locate file|404/i.test(message)) {
    return modelMissingError(model_dir, model, [allow ? `a file the Hub did not serve (${message})` : message]);
  }
  return new ChimeraError('INTERNAL', `embedding model "${model}" failed to load from ${model_dir}: ${message}`);
}
