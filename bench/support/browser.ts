/** Headless Debian Chromium through playwright-core, and a browser-mode server on a random port. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { loadConfig } from '../../src/config/config.ts';
import { StudioService } from '../../src/app/studio-service.ts';
import { startStudioServer, type StudioServer } from '../../server/server.ts';

/** Debian's Chromium; CHIMERA_CHROMIUM names another binary. */
export const CHROMIUM = process.env.CHIMERA_CHROMIUM || '/usr/bin/chromium';
export const ROOT = join(import.meta.dirname, '..', '..');
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** For callers that may go without a browser (the benchmarks); the UI tests fail instead, see below. */
export const SKIP_REASON = `skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does this)`;
/**
 * The UI's end-to-end tests run wherever the other tests run: a missing Chromium fails them,
 * with this message, unless CHIMERA_SKIP_E2E=1 says to skip them on purpose (and the skip is
 * printed with its reason).
 */
export const SKIP_E2E = process.env.CHIMERA_SKIP_E2E === '1';
export const MISSING_CHROMIUM = `${CHROMIUM} is missing, so the UI's end-to-end tests cannot run: apt-get install -y chromium (.ci/run does this), or set CHIMERA_SKIP_E2E=1 to skip them on purpose`;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Builds dist-renderer/ when it is missing or older than its sources (as npm start does). */
export async function ensureRenderer(): Promise<void> {
  const start = (await import(join(ROOT, 'bin', 'start.mjs'))) as { ensureRenderer: () => Promise<void> };
  await start.ensureRenderer();
}

export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'chimera-chromium-'));
  // launchPersistentContext is how playwright takes a fresh --user-data-dir
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface RunningStudio {
  readonly service: StudioService;
  readonly server: StudioServer;
  stop(): Promise<void>;
}

/** The real service and server over `data_dir`, on a free port; `env` is the environment its config is read from (none by default). */
export async function startStudio(data_dir: string, env: Record<string, string> = {}): Promise<RunningStudio> {
  const service = await StudioService.open({ config: loadConfig({ env, overrides: { data_dir } }) });
  const server = await startStudioServer({ service, port: 0, staticDir: join(ROOT, 'dist-renderer') });
  return {
    service,
    server,
    async stop() {
      await server.close();
      await service.close();
    },
  };
}
