// The transformers.js side of TransformersEmbedder: one worker thread per process that hosts
// every loaded pipeline, so tokenising and ONNX inference never block the main thread.
// One worker, not one per embedder, because onnxruntime-node's native addon is not
// context-aware: it loads into one thread of a process only, and a second worker fails with
// "Module did not self-register". Plain JavaScript on purpose: a worker does not inherit the
// parent's TypeScript loader (tsx or vitest), and this file needs none.
//
// Requests (parent → worker), each with a numeric `id`:
//   { type: 'load', id, model, model_dir, allow_downloads, quantized } → { type: 'loaded', id, handle, dimensions }
//   { type: 'embed', id, handle, texts } → { type: 'result', id, data: Float32Array, dimensions }
//   { type: 'unload', id, handle } → { type: 'unloaded', id }
// Any failure → { type: 'error', id, message }. Requests run one at a time, in order.
import { parentPort } from 'node:worker_threads';

// The loader warns on stderr about every optional file it does not find locally; the parent
// turns real misses into a typed error, so these lines are noise in a CLI or app log.
const warn = console.warn.bind(console);
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].startsWith('Unable to load from local path')) return;
  warn(...args);
};

const pipelines = new Map();
let nextHandle = 1;
let transformers;

async function load(msg) {
  transformers ??= await import('@xenova/transformers');
  const { env, pipeline } = transformers;
  env.allowLocalModels = true;
  env.localModelPath = msg.model_dir;
  env.allowRemoteModels = Boolean(msg.allow_downloads);
  // downloads (only when allowed) land in the same folder, in the layout the loader reads
  env.cacheDir = msg.model_dir;
  env.useFSCache = Boolean(msg.allow_downloads);
  const extractor = await pipeline('feature-extraction', msg.model, { quantized: msg.quantized });
  const handle = nextHandle++;
  pipelines.set(handle, extractor);
  const probe = await embed(handle, ['probe']);
  return { type: 'loaded', id: msg.id, handle, dimensions: probe.dimensions };
}

async function embed(handle, texts) {
  const extractor = pipelines.get(handle);
  if (!extractor) throw new Error('this embedder was closed');
  const out = await extractor(texts, { pooling: 'mean', normalize: true });
  const dimensions = out.dims[out.dims.length - 1];
  return { data: Float32Array.from(out.data), dimensions };
}

async function unload(handle) {
  const extractor = pipelines.get(handle);
  pipelines.delete(handle);
  await extractor?.dispose?.();
}

async function handle(msg) {
  switch (msg.type) {
    case 'load':
      return load(msg);
    case 'embed': {
      const { data, dimensions } = await embed(msg.handle, msg.texts);
      return { type: 'result', id: msg.id, data, dimensions };
    }
    case 'unload':
      await unload(msg.handle);
      return { type: 'unloaded', id: msg.id };
    default:
      throw new Error(`unknown request ${msg.type}`);
  }
}

let chain = Promise.resolve();
parentPort.on('message', (msg) => {
  chain = chain.then(async () => {
    try {
      const reply = await handle(msg);
      parentPort.postMessage(reply, reply.data ? [reply.data.buffer] : []);
    } catch (e) {
      parentPort.postMessage({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) });
    }
  });
});
