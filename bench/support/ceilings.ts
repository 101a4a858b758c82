/**
 * What the servers themselves do on this machine, measured by their own tools beside our
 * figures (the ceiling our adapters run under): redis-benchmark and pgbench, each in a database
 * or key space of its own, for a few seconds.
 */
import { spawnSync } from 'node:child_process';
import pg from 'pg';

export interface RedisCeiling {
  /** requests per second by command, one request in flight per client (-P 1), 50 clients. */
  readonly per_s: Record<string, number>;
  /** the same with 16 commands pipelined per round trip. */
  readonly pipelined_per_s: Record<string, number>;
}

function parseRedisBenchmark(out: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const line of out.split(/\r|\n/)) {
    const m = /^"?([A-Z_]+)[^:"]*"?[:,]\s*"?([\d.]+)/.exec(line.trim());
    if (m && m[1] && m[2]) r[m[1].toLowerCase()] = Math.round(Number(m[2]));
  }
  return r;
}

export function redisCeiling(url: string, quick: boolean): RedisCeiling | { error: string } {
  const u = new URL(url);
  const base = ['-h', u.hostname, '-p', u.port || '6379', '-q', '--csv', '-n', quick ? '20000' : '200000', '-t', 'lpush,rpop,set,get,zadd'];
  const a = spawnSync('redis-benchmark', base, { encoding: 'utf8' });
  if (a.status !== 0) return { error: `redis-benchmark failed: ${a.error?.message ?? a.stderr}` };
  const b = spawnSync('redis-benchmark', [...base, '-P', '16'], { encoding: 'utf8' });
  return { per_s: parseRedisBenchmark(a.stdout), pipelined_per_s: parseRedisBenchmark(b.stdout) };
}

export interface PgCeiling {
  /** TPC-B-like transactions per second (pgbench default script, 5 statements + commit). */
  readonly tpcb_tps: number;
  /** select-only transactions per second (-S). */
  readonly select_tps: number;
  readonly clients: number;
  readonly seconds: number;
}

export async function pgCeiling(adminUrl: string, quick: boolean): Promise<PgCeiling | { error: string }> {
  const name = `chimera_pgbench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(adminUrl);
    const env = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username || 'postgres'), ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}) };
    const init = spawnSync('pgbench', ['-i', '-q', '-s', '1', name], { encoding: 'utf8', env });
    if (init.status !== 0) return { error: `pgbench -i failed: ${init.error?.message ?? init.stderr}` };
    const seconds = quick ? 2 : 8;
    const clients = 4;
    const tps = (args: string[]) => {
      const r = spawnSync('pgbench', ['-c', String(clients), '-j', '2', '-T', String(seconds), ...args, name], { encoding: 'utf8', env });
      const m = /tps = ([\d.]+)/.exec(r.stdout);
      return m ? Math.round(Number(m[1])) : Number.NaN;
    };
    return { tpcb_tps: tps([]), select_tps: tps(['-S']), clients, seconds };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await admin.end();
  }
}
