/**
 * Units of work whose body reads what it compares inside the unit. Under the state store's
 * model (read committed plus compare-and-set) a ConflictError there means another writer
 * committed between the body's read and its write: the body runs again on fresh reads, a
 * bounded number of times. A compare-and-set on a version read *outside* the unit (a Judge
 * that deliberated, a human looking at a page) is not retried here: that caller re-reads and
 * re-decides, or reports the conflict.
 */
import { ConflictError } from '../domain/errors.ts';
import type { StateStore, StateTransaction } from '../ports/state-store.ts';

/** How many times a unit of work runs before its conflict is reported. */
export const UNIT_ATTEMPTS = 5;

export async function retryingUnit<T>(state: StateStore, fn: (tx: StateTransaction) => Promise<T>, attempts = UNIT_ATTEMPTS): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await state.transaction(fn);
    } catch (e) {
      if (!(e instanceof ConflictError) || i >= attempts) throw e;
    }
  }
}
