/** Helpers the time-travel tests (unit and end to end) share. */
import type { StudioService } from '../../src/app/studio-service.ts';
import type { SimStatus } from '../../src/shared/types.ts';

/** Resolves once the service's status satisfies `pred`: checked now and at every update it pushes (no polling, no sleeps). */
export function untilStatus(service: StudioService, pred: (s: SimStatus) => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = () => {
      if (!pred(service.status())) return;
      off();
      resolve();
    };
    const off = service.subscribe(check);
    check();
  });
}
