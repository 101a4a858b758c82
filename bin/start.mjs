#!/usr/bin/env node
/**
 * `npm start`: builds the renderer if dist-renderer/ is missing or older than its sources,
 * opens the Electron app when Electron can launch here, and otherwise starts browser mode and
 * prints the URL (with its per-launch token).
 *
 * Electron is detected without touching `require('electron')` (which tries to download a
 * missing binary): the binary must exist, a display must be there (Linux), and the app must
 * survive its first seconds. `--browser` (or CHIMERA_BROWSER=1) skips Electron; `--electron`
 * refuses to fall back.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const log = (line) => process.stderr.write(`[start] ${line}\n`);

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/** True when dist-renderer/index.html is older than anything in renderer/ or src/shared/. */
export function rendererStale(root = ROOT) {
  const out = join(root, 'dist-renderer', 'index.html');
  if (!existsSync(out)) return true;
  const built = statSync(out).mtimeMs;
  return Math.max(newest(join(root, 'renderer')), newest(join(root, 'src', 'shared')), statSync(join(root, 'vite.config.ts')).mtimeMs) > built;
}

/**
 * Builds dist-renderer/. Builds that overlap (two test files, two `npm start`s) would empty
 * the folder under each other, so one build at a time holds a lock folder; a waiter re-checks
 * staleness when the lock is released, and skips its own build when the other one did it.
 */
export async function buildRenderer(root = ROOT, { force = true } = {}) {
  const lock = join(root, 'dist-renderer.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      // a lock left by a killed build is stale after two minutes
      if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another renderer build holds ${lock}; remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!force && !rendererStale(root)) return;
    const { build } = await import('vite');
    await build({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the renderer only when it is missing or stale (waiting for a build in progress). */
export async function ensureRenderer(root = ROOT) {
  if (rendererStale(root) || existsSync(join(root, 'dist-renderer.lock'))) await buildRenderer(root, { force: false });
}

/** Why Electron cannot launch here, or null when it may. Never downloads anything. */
export function electronUnavailable(root = ROOT, env = process.env) {
  const pkg = join(root, 'node_modules', 'electron');
  if (!existsSync(join(pkg, 'package.json'))) return 'the electron package is not installed';
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return 'the Electron binary was not downloaded (node_modules/electron/path.txt is missing)';
  const bin = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(bin)) return `the Electron binary ${bin} is missing`;
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return 'no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  if (!existsSync(join(root, 'dist-electron', 'main.js'))) return 'dist-electron/main.js is not built (npm run build:electron)';
  return null;
}

function electronBinaryMissing(root = ROOT) {
  const pathFile = join(root, 'node_modules', 'electron', 'path.txt');
  return !existsSync(pathFile) || !existsSync(electronBinary(root));
}

function electronStale(root = ROOT) {
  const out = join(root, 'dist-electron', 'main.js');
  if (!existsSync(out)) return true;
  return Math.max(newest(join(root, 'electron')), newest(join(root, 'src'))) > statSync(out).mtimeMs;
}

function electronBinary(root = ROOT) {
  const pkg = join(root, 'node_modules', 'electron');
  return join(pkg, 'dist', readFileSync(join(pkg, 'path.txt'), 'utf8').trim());
}

/** Starts Electron; resolves true if it is still up after `grace_ms`, false if it died first. */
function tryElectron(grace_ms = 4000) {
  return new Promise((resolve) => {
    const child = spawn(electronBinary(), [ROOT], { stdio: 'inherit', env: { ...process.env, ELECTRON_RUN_AS_NODE: '' } });
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      child.on('exit', (code) => process.exit(code ?? 0));
      resolve(true);
    }, grace_ms);
    child.on('error', (e) => {
      if (settled) return;
      clearTimeout(timer);
      log(`Electron failed to start: ${e.message}`);
      resolve(false);
    });
    child.on('exit', (code) => {
      if (settled) return;
      clearTimeout(timer);
      log(`Electron exited at once (code ${code})`);
      resolve(false);
    });
  });
}

async function main() {
  if (rendererStale()) {
    log('building the renderer (dist-renderer/)…');
    const t0 = performance.now();
    await ensureRenderer();
    log(`renderer built in ${Math.round(performance.now() - t0)} ms`);
  }
  const forceBrowser = args.includes('--browser') || process.env.CHIMERA_BROWSER === '1';
  const forceElectron = args.includes('--electron');
  if (!forceBrowser) {
    if (!electronBinaryMissing() && electronStale()) {
      log('building the Electron bundles (dist-electron/)…');
      const { buildElectron } = await import(pathToFileURL(join(ROOT, 'electron', 'build.mjs')).href);
      await buildElectron();
    }
    const why = electronUnavailable();
    if (!why && (await tryElectron())) return;
    if (forceElectron) {
      log(`cannot open the Electron app: ${why ?? 'it exited at once'}`);
      process.exit(1);
    }
    log(`Electron is not available (${why ?? 'it exited at once'}); starting browser mode`);
  }
  const { register } = await import('tsx/esm/api');
  register();
  const { runBrowserMode } = await import(pathToFileURL(join(ROOT, 'server', 'main.ts')).href);
  await runBrowserMode(args.filter((a) => a !== '--browser' && a !== '--electron'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    log(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
