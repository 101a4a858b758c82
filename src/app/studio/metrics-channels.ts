/** The 'metrics/…' channel: the run's metrics, folded from the event log as far as it goes. */
import type { NamespaceHandlers, StudioContext } from './context.ts';

type MetricsContext = Pick<StudioContext, 'current'>;

export function metricsChannels(ctx: MetricsContext): NamespaceHandlers<'metrics'> {
  return {
    'metrics/series': async () => {
      const s = ctx.current();
      s.metrics.update(s.sim.engine.log.all());
      return s.metrics.view(s.sim.engine.tickNo);
    },
  };
}
