/** A backend profile builds the ports for one DATABASE_MODE. */
import type { ChimeraConfig } from '../config.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Ports } from '../../ports/index.ts';

export interface BackendContext {
  readonly config: ChimeraConfig;
  readonly clock: Clock;
  /** Reports progress of long start-up work (index rebuilds, migrations). */
  readonly onProgress?: (what: string, done: number, total: number) => void;
}

/** The unguarded ports of one profile; the composition root wraps and completes them. */
export type RawPorts = Omit<Ports, 'embedder' | 'memory'> & Partial<Pick<Ports, 'embedder' | 'memory'>>;

export interface BackendFactory {
  readonly mode: string;
  /** Short human description, shown in the app's backend picker. */
  readonly describe: (config: ChimeraConfig) => string;
  readonly create: (ctx: BackendContext) => Promise<RawPorts>;
}
