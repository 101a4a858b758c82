/**
 * `node --import tsx server/main.ts [--port N] [--data-dir DIR]`: browser mode. Opens the
 * studio service, serves the UI and the contract on 127.0.0.1 and prints the URL (with its
 * per-launch token). Ctrl-C closes the session cleanly (SQLite files are flushed and closed).
 */
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.ts';
import { StudioService } from '../src/app/studio-service.ts';
import { startStudioServer } from './server.ts';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function runBrowserMode(argv: string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')) {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: process.env.CHIMERA_PORT ?? '0' }, 'data-dir': { type: 'string' }, config: { type: 'string' } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  const config = loadConfig({ ...(values.config ? { file: values.config } : {}), ...(values['data-dir'] ? { overrides: { data_dir: values['data-dir'] } } : {}) });
  const service = await StudioService.open({ config });
  const server = await startStudioServer({ service, port, staticDir: join(REPO_ROOT, 'dist-renderer') });
  out(`Chimera Studio (browser mode) — data folder ${service.config.data_dir}`);
  out(`Open ${server.url}`);
  const stop = async () => {
    await server.close();
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return { server, service };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runBrowserMode(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`chimera studio: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
