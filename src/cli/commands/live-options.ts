/** Settings shared by the live commands (`chimera worker`, `chimera simulate --live`). */
import type { ChimeraConfig } from '../../config/config.ts';
import { backendForPorts, backendForMode } from '../../config/backends/index.ts';
import { PORT_GROUPS } from '../../config/backends/types.ts';
import { UsageError, intFlag } from '../command.ts';

/**
 * Engine settings of a live engine from the flags. Time is the wall clock there, so a lease is
 * `--lease-ms` (default 5 s: 5 ticks of 1 s) and the tick limit is lifted (a worker runs for days).
 */
export function liveEngineSettings(values: Record<string, unknown>): Record<string, unknown> {
  const engine: Record<string, unknown> = { tick_ms: 1000, lease_ticks: 5, max_ticks: 10_000_000 };
  const workers = intFlag(values, 'workers', 1, 256);
  if (workers !== undefined) engine.workers = workers;
  const judges = intFlag(values, 'judges', 1, 64);
  if (judges !== undefined) engine.judges = judges;
  const lease = intFlag(values, 'lease-ms', 100, 3_600_000);
  if (lease !== undefined) {
    engine.tick_ms = Math.max(1, Math.round(lease / 5));
    engine.lease_ticks = 5;
  }
  return engine;
}

/** Refuses a profile that several processes cannot share (each port group's backend must be multi-writer). */
export function requireSharedBackend(config: ChimeraConfig, what: string): void {
  const single = PORT_GROUPS.map((g) => backendForPorts(config, g)).filter((e) => !e.capabilities.multiWriter);
  if (single.length) {
    const kinds = [...new Set(single.map((e) => e.kind))];
    throw new UsageError(`${what} needs stores several processes can share; ${kinds.join(' and ')} ${kinds.length > 1 ? 'are' : 'is'} kept by one process (use --backend production; mode now: ${backendForMode(config.mode).kind})`);
  }
}
