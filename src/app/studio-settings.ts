/**
 * The studio's settings: one JSON file in config.data_dir (studio-settings.json), validated on
 * read (a damaged file is set aside as .bad and the defaults are used, with a notice).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { BACKEND_KINDS, THEMES, type Settings } from '../shared/types.ts';
import { FaultRatesArg } from '../shared/contract.ts';
import { defaultBackend } from '../config/backends/index.ts';

export const SETTINGS_FILE = 'studio-settings.json';

/** The default backend (the registry's), as the wire names it. */
const DEFAULT_KIND = z.enum(BACKEND_KINDS).parse(defaultBackend().kind);

const SettingsSchema = z.object({
  theme: z.enum(THEMES).default('system'),
  // a speed a person can follow (Pause reachable on a short run); "Max" is one choice away
  speed: z.number().min(0).max(1_000_000).default(10),
  backend: z
    .object({ kind: z.enum(BACKEND_KINDS), name: z.string().nullable().default(null), path: z.string().nullable().default(null) })
    .default({ kind: DEFAULT_KIND, name: null, path: null }),
  last_run: z
    .object({ scenario: z.string().min(1), seed: z.int().min(0), workers: z.int().min(1), faults: FaultRatesArg })
    .nullable()
    .default(null),
});

export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({});

export class SettingsFile {
  readonly path: string;
  notice: string | null = null;
  private current: Settings;

  constructor(data_dir: string) {
    this.path = join(data_dir, SETTINGS_FILE);
    this.current = this.read();
  }

  get(): Settings {
    return this.current;
  }

  update(patch: Partial<Settings>): Settings {
    this.current = { ...this.current, ...patch };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.current, null, 2) + '\n');
    renameSync(tmp, this.path);
    return this.current;
  }

  private read(): Settings {
    if (!existsSync(this.path)) return DEFAULT_SETTINGS;
    try {
      return SettingsSchema.parse(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch (e) {
      const bad = `${this.path}.bad`;
      renameSync(this.path, bad);
      this.notice = `settings file ${this.path} could not be read (${(e as Error).message.slice(0, 200)}); moved to ${bad}, using defaults`;
      return DEFAULT_SETTINGS;
    }
  }
}
