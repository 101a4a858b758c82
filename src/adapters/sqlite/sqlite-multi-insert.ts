/**
 * Multi-row INSERTs: many rows for the price of a few statements. Statements for chunks of
 * 64, 16, 4 and 1 rows are prepared once per table; a list is written with the largest chunks
 * first (200 rows: 3 × 64, 2 × 4).
 */
import type Database from 'better-sqlite3';

const CHUNKS = [64, 16, 4, 1] as const;

/** Writes rows (one array of column values each, in `columns` order) into `table`. */
export class MultiInsert {
  private readonly stmts: Database.Statement[];
  private readonly width: number;

  constructor(db: Database.Database, verb: string, table: string, columns: string) {
    this.width = columns.split(',').length;
    const one = `(${Array.from({ length: this.width }, () => '?').join(', ')})`;
    this.stmts = CHUNKS.map((n) => db.prepare(`${verb} INTO ${table} (${columns}) VALUES ${Array.from({ length: n }, () => one).join(', ')}`));
  }

  /** Inserts every row, in order. */
  run(rows: readonly (readonly unknown[])[]): void {
    let i = 0;
    for (let c = 0; c < CHUNKS.length; c++) {
      const n = CHUNKS[c] as number;
      const stmt = this.stmts[c] as Database.Statement;
      while (rows.length - i >= n) {
        if (n === 1) {
          stmt.run(rows[i] as unknown[]);
        } else {
          const args: unknown[] = new Array(n * this.width);
          let k = 0;
          for (let r = i; r < i + n; r++) for (const v of rows[r] as readonly unknown[]) args[k++] = v;
          stmt.run(args);
        }
        i += n;
      }
    }
  }
}
