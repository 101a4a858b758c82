/** A one-line progress bar on a terminal; silent when the stream is not a TTY. */
export class ProgressBar {
  private last = '';
  private lastDraw = -Infinity;
  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly label: string,
    private readonly enabled = Boolean(stream.isTTY),
  ) {}

  /** Redraws at most every 50 ms of calls (`at_ms` comes from the caller's own timer). */
  update(done: number, total: number, note = '', at_ms = 0): void {
    if (!this.enabled) return;
    if (at_ms - this.lastDraw < 50 && done < total) return;
    this.lastDraw = at_ms;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 50));
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const fill = Math.round(frac * width);
    const line = `${this.label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${String(Math.round(frac * 100)).padStart(3)}% ${done}/${total} ${note}`;
    if (line !== this.last) {
      this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`);
      this.last = line;
    }
  }

  done(): void {
    if (this.enabled && this.last) this.stream.write('\n');
    this.last = '';
  }
}
