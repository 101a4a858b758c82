/** Human-readable run summaries for the terminal. */
import type { RunSummary } from '../../engine/summary.ts';

export function formatSummary(s: RunSummary): string {
  const rows: [string, string][] = [
    ['scenario', `${s.scenario} (seed ${s.seed}, backend ${s.backend})`],
    ['finished', `${s.finished ?? 'not yet (stopped early)'} after ${s.steps} steps, ${s.ticks} ticks`],
    ['campaigns', `${s.campaigns.completed}/${s.campaigns.total} completed`],
    ['tasks', `${s.tasks.total} total · ${s.tasks.completed} completed · ${s.tasks.failed} failed · ${s.tasks.escalated} escalated`],
    ['human review', `${s.hitlPending} pending · ${s.humanDecisions} decided`],
    ['faults handled', `${s.retries} retries · ${s.replans} re-plans · ${s.redeliveries} redeliveries · ${s.duplicatesSkipped} duplicates skipped`],
    ['OCC conflicts', String(s.conflicts)],
    ['throughput', `${s.tasksPerSecond} tasks/s in ${s.elapsedMs} ms`],
    ['event log', `sha256 ${s.eventLogSha256}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
