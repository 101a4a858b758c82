/**
 * The renderer build: renderer/ → dist-renderer/. No React plugin: Vite 8's built-in oxc
 * transform compiles TSX with the automatic JSX runtime. `base: './'` so the same build loads
 * from the browser-mode server and from file:// inside Electron.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('./dist-renderer', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  logLevel: 'warn',
});
