/**
 * Runs async critical sections one at a time, in call order. An uncontended section starts at
 * once (no promise chain to wait on); when it ends, the lock passes to the oldest waiter.
 */
export class Mutex {
  private locked = false;
  private readonly waiting: (() => void)[] = [];

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.locked) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.locked = true;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.locked = false;
    }
  }
}
