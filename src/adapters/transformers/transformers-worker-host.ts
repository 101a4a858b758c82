/**
 * The main-thread end of transformers-worker.mjs: one worker thread per process, started on
 * first use and shared by every TransformersEmbedder (onnxruntime-node's addon can live in
 * only one thread of a process, so a worker per embedder is not possible). The worker keeps
 * the process alive only while an answer is owed; a crashed worker is replaced on next use.
 */
import { Worker } from 'node:worker_threads';
import { ChimeraError } from '../../domain/errors.ts';

const WORKER_URL = new URL('./transformers-worker.mjs', import.meta.url);

/** A successful reply from the worker. */
export type WorkerReply =
  | { type: 'loaded'; id: number; handle: number; dimensions: number }
  | { type: 'result'; id: number; data: Float32Array; dimensions: number }
  | { type: 'unloaded'; id: number };

type Request =
  | { type: 'load'; model: string; model_dir: string; allow_downloads: boolean; quantized: boolean }
  | { type: 'embed'; handle: number; texts: string[] }
  | { type: 'unload'; handle: number };

interface Pending {
  resolve: (r: WorkerReply) => void;
  reject: (e: Error) => void;
}

class WorkerHost {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly worker: Worker;
  dead: Error | null = null;

  constructor() {
    // stderr stays the process's own: a piped one would keep the process alive after close
    this.worker = new Worker(WORKER_URL);
    this.worker.on('message', (m: WorkerReply | { type: 'error'; id: number; message: string }) => {
      const p = this.settle(m.id);
      if (!p) return;
      if (m.type === 'error') p.reject(new Error(m.message));
      else p.resolve(m);
    });
    this.worker.on('error', (e) => this.die(new ChimeraError('INTERNAL', `embedding worker crashed: ${e.message}`)));
    this.worker.on('exit', (code) => this.die(new ChimeraError('INTERNAL', `embedding worker exited (code ${code})`)));
    this.worker.unref();
  }

  request(req: Request): Promise<WorkerReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // keep the process alive while an answer is owed
      this.worker.postMessage({ ...req, id });
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return p;
  }

  private die(e: Error): void {
    this.dead ??= e;
    if (host === this) host = null;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
  }
}

let host: WorkerHost | null = null;

/** Sends one request to the process's embedding worker (starting it if needed). */
export function workerRequest(req: Request): Promise<WorkerReply> {
  host ??= new WorkerHost();
  return host.request(req);
}
