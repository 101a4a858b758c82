#!/usr/bin/env node
/**
 * Rebuilds the native modules for Electron's ABI (not Node's): `npm run rebuild:electron`.
 *
 * Why a script: this machine (and many CI images) set a global npm `nodedir=/usr`, and
 * `npx electron-rebuild` then silently compiles against the system Node 20 headers — the app
 * later dies with "was compiled against a different Node.js version". So: npm_config_nodedir
 * is removed from the environment and the Electron version is given explicitly.
 *
 * Undo (back to Node 20 for tests, the CLI and browser mode): `npm rebuild better-sqlite3 hnswlib-node`.
 * Needs the Electron headers (downloaded by @electron/rebuild) — not reachable offline.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const version = String(pkg.devDependencies.electron).replace(/^[\^~]/, '');
const env = { ...process.env };
for (const k of Object.keys(env)) if (k.toLowerCase() === 'npm_config_nodedir') delete env[k];
const args = ['--version', version, '--force', '--only', 'better-sqlite3,hnswlib-node', '--module-dir', ROOT];
process.stderr.write(`electron-rebuild ${args.join(' ')} (npm_config_nodedir unset)\n`);
const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'electron-rebuild'), args, { stdio: 'inherit', env, cwd: ROOT });
process.exit(r.status ?? 1);
