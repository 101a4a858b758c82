#!/usr/bin/env node
/**
 * Builds the Electron side into dist-electron/: main.js and core.js (ES modules, Node target)
 * and preload.cjs (CommonJS: a sandboxed preload cannot be an ES module). The renderer is
 * built separately (vite.config.ts → dist-renderer/).
 *
 * Native and heavy packages stay external (they are installed in the app's node_modules and
 * unpacked from the asar, see electron-builder.yml). Modules that find files next to
 * themselves (examples/, migrations/, the transformers worker) keep working because every
 * `import.meta.url` in src/ is rewritten to that module's original location.
 */
import { build } from 'vite';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist-electron');
const EXTERNAL = ['electron', 'better-sqlite3', 'hnswlib-node', '@xenova/transformers', 'onnxruntime-node', 'sharp', 'ws', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

const keepModuleLocation = {
  name: 'chimera-keep-module-location',
  transform(code, id) {
    if (!id.startsWith(join(ROOT, 'src')) || !code.includes('import.meta.url')) return null;
    const rel = relative(OUT, id).split('\\').join('/');
    // same-line replacement: line mappings stay right, so no new sourcemap is needed
    return { code: code.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), map: null };
  },
};

const common = (entry, fileName, format) => ({
  configFile: false,
  root: ROOT,
  logLevel: 'warn',
  plugins: [keepModuleLocation],
  // bundle everything but EXTERNAL (the sandboxed preload cannot require packages at all)
  ssr: { noExternal: true },
  build: {
    outDir: OUT,
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    sourcemap: true,
    ssr: true,
    rollupOptions: {
      input: { [fileName.replace(/\.c?js$/, '')]: join(ROOT, 'electron', entry) },
      external: (id) => EXTERNAL.some((e) => id === e || id.startsWith(`${e}/`)),
      output: { format, entryFileNames: fileName, codeSplitting: false },
    },
  },
});

export async function buildElectron() {
  await build(common('main.ts', 'main.js', 'es'));
  await build(common('core.ts', 'core.js', 'es'));
  await build(common('preload.ts', 'preload.cjs', 'cjs'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildElectron();
  process.stderr.write(`built ${relative(ROOT, OUT)}/{main.js,core.js,preload.cjs}\n`);
}
