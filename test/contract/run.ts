/**
 * Runs a contract suite over every adapter in the table that serves `port`. An adapter that
 * cannot run here is skipped with its reason in the suite's name, never passed silently.
 */
import { describe, it } from 'vitest';
import { adaptersFor, type AdapterEntry } from '../adapters.ts';

export async function forEachAdapter<K extends keyof AdapterEntry>(
  port: K,
  suite: (name: string, factory: NonNullable<AdapterEntry[K]>) => void,
): Promise<void> {
  for (const a of adaptersFor(port)) {
    const reason = a.unavailable ? await a.unavailable() : null;
    if (reason) {
      // skipped with its reason in the suite's name, so the report says why
      describe.skipIf(true)(`${String(port)} contract: ${a.name} — skipped: ${reason}`, () => {
        it('needs the backend', () => {});
      });
    } else {
      suite(a.name, a[port] as NonNullable<AdapterEntry[K]>);
    }
  }
}
