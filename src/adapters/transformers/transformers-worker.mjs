// The transformers.js side of TransformersEmbedder, run in a worker thread so tokenising and
// ONNX inference never block the main thread. Plain JavaScript on purpose: a worker does not
// inherit the parent's TypeScript loader (tsx or vitest), and this file needs none.
//
// Protocol (parent → worker): { type: 'embed', id, texts }.
// Worker → parent: { type: 'ready', dimensions } once the model is loaded, or
// { type: 'fatal', message }; then { type: 'result', id, data: Float32Array, dimensions } or
// { type: 'error', id, message } per request. Options arrive as workerData.
import { parentPort, workerData } from 'node:worker_threads';

const { model, model_dir, allow_downloads, quantized } = workerData;

async function load() {
  const { env, pipeline } = await import('@xenova/transformers');
  env.allowLocalModels = true;
  env.localModelPath = model_dir;
  env.allowRemoteModels = Boolean(allow_downloads);
  // downloads (only when allowed) land in the same folder, in the layout the loader reads
  env.cacheDir = model_dir;
  env.useFSCache = Boolean(allow_downloads);
  return pipeline('feature-extraction', model, { quantized });
}

async function embed(extractor, texts) {
  const out = await extractor(texts, { pooling: 'mean', normalize: true });
  const dimensions = out.dims[out.dims.length - 1];
  return { data: Float32Array.from(out.data), dimensions };
}

let extractor;
try {
  extractor = await load();
  const probe = await embed(extractor, ['probe']);
  parentPort.postMessage({ type: 'ready', dimensions: probe.dimensions });
} catch (e) {
  parentPort.postMessage({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
}

// one request at a time: ONNX sessions are not re-entrant and the queue keeps order
let chain = Promise.resolve();
parentPort.on('message', (msg) => {
  if (!msg || msg.type !== 'embed') return;
  chain = chain.then(async () => {
    try {
      if (!extractor) throw new Error('the model did not load');
      const { data, dimensions } = await embed(extractor, msg.texts);
      parentPort.postMessage({ type: 'result', id: msg.id, data, dimensions }, [data.buffer]);
    } catch (e) {
      parentPort.postMessage({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) });
    }
  });
});
