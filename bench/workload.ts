/** The benchmark workload: many campaigns over the shipped personas, no faults. */
import { loadScenario, type LoadedScenario } from '../src/scenarios/load.ts';

export function benchScenario(campaigns: number, pieces: number, engine: Record<string, unknown> = {}): LoadedScenario {
  const base = loadScenario('launch-day');
  return {
    ...base,
    scenario: {
      ...base.scenario,
      name: `bench-${campaigns}x${pieces}`,
      campaigns: Array.from({ length: campaigns }, (_, i) => ({ ...base.scenario.campaigns[i % base.scenario.campaigns.length]!, title: `Bench ${i}`, content_pieces: pieces })),
      engine: {
        workers: 16,
        judges: 4,
        worker_actions_per_tick: 8,
        judge_actions_per_tick: 64,
        human: { enabled: true, delay_ticks: 1 },
        ...engine,
      },
    },
  };
}

/** Worker tasks in a plan of `pieces` content pieces. */
export const tasksPerCampaign = (pieces: number): number => 2 + 2 * pieces;
