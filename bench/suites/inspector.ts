/**
 * The Inspector's reads on the production profile, with the studio's pool of inspection readers
 * (src/app/studio/inspect-pool.ts) and without it (each call opening its readers and closing
 * them: how the studio read before), in the same run, alternating one screen of each:
 * - `screen`: 'inspect/campaigns' + 'inspect/tasks' + 'inspect/queues' fired at once, as the
 *   Inspector's view fires them, from the first call to the last answer;
 * - `in_a_row`: the same three, one after the other (their latencies summed).
 * Both on this machine's servers (loopback: a connection costs little) and through a TCP proxy
 * that holds every chunk `delay_ms` each way, as a cluster a few milliseconds away would
 * (no TLS here: a remote cluster's handshakes cost more still). The data: one production run of
 * the bench's own (a database and a Redis prefix made for it and removed after), read with
 * `target: 'production'` by studios whose own sessions are in memory.
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { StudioService } from '../../src/app/studio-service.ts';
import { loadConfig, type ChimeraConfig } from '../../src/config/config.ts';
import { percentile, round, type BenchContext, type BenchSuite } from '../suite.ts';

const PG = (): string => process.env.CHIMERA_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = (): string => process.env.CHIMERA_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** A URL with another host:port (the proxy's) and, for Postgres, another database. */
function via(url: string, port: number | null, database?: string): string {
  const u = new URL(url);
  if (port !== null) {
    u.hostname = '127.0.0.1';
    u.port = String(port);
  }
  if (database !== undefined) u.pathname = `/${database}`;
  return u.toString();
}

/** A TCP proxy to `url`'s server that holds every chunk `delay_ms` in each direction (order kept). */
async function delayingProxy(url: string, defaultPort: number, delay_ms: number): Promise<{ port: number; close(): Promise<void> }> {
  const u = new URL(url);
  const target = { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
  const sockets = new Set<net.Socket>();
  const pipe = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delay_ms));
    from.on('end', () => setTimeout(() => to.end(), delay_ms));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), delay_ms));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const s of [client, upstream]) {
      // no Nagle: the drivers turn it off on their own sockets, and a held chunk must not wait for an ack too
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

interface Figures {
  readonly median_ms: number;
  readonly p90_ms: number;
}
const figures = (xs: number[]): Figures => {
  const s = [...xs].sort((a, b) => a - b);
  return { median_ms: round(percentile(s, 50), 2), p90_ms: round(percentile(s, 90), 2) };
};

const CHANNELS = ['inspect/campaigns', 'inspect/tasks', 'inspect/queues'] as const;
type Times = { at_once: number; in_a_row: number } & Record<(typeof CHANNELS)[number], number>;

/** One Inspector screen's three reads, at once and in a row, on `service`: the times in ms (each channel's in the row). */
async function screen(service: StudioService): Promise<Times> {
  const a = { target: 'production' as const, limit: 25 };
  let t = performance.now();
  await Promise.all(CHANNELS.map((c) => service.call(c, a)));
  const out = { at_once: performance.now() - t, in_a_row: 0 } as Times;
  for (const c of CHANNELS) {
    t = performance.now();
    await service.call(c, a);
    out[c] = performance.now() - t;
    out.in_a_row += out[c];
  }
  return out;
}

/** Pooled and unpooled studios on `config`, one screen of each in turn. */
async function compare(ctx: BenchContext, label: string, config: ChimeraConfig, rounds: number) {
  const dirs = [mkdtempSync(join(tmpdir(), 'chimera-bench-insp-')), mkdtempSync(join(tmpdir(), 'chimera-bench-insp-'))];
  const pooled = await StudioService.open({ config: { ...config, data_dir: dirs[0] as string } });
  const unpooled = await StudioService.open({ config: { ...config, data_dir: dirs[1] as string }, inspectReaders: false });
  try {
    const coldPooled = await screen(pooled);
    for (let i = 0; i < 3; i++) {
      await screen(pooled);
      await screen(unpooled);
    }
    const p: Times[] = [];
    const u: Times[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const [s, into] of i % 2 ? ([[unpooled, u], [pooled, p]] as const) : ([[pooled, p], [unpooled, u]] as const)) into.push(await screen(s));
    }
    const of = (k: keyof Times) => ({ pooled: figures(p.map((x) => x[k])), unpooled: figures(u.map((x) => x[k])) });
    const out = {
      screen: of('at_once'),
      in_a_row: of('in_a_row'),
      per_channel: Object.fromEntries(CHANNELS.map((c) => [c, of(c)])),
      pooled_first_screen_ms: round(coldPooled.at_once, 2),
    };
    const ratio = {
      screen_unpooled_over_pooled: round(out.screen.unpooled.median_ms / out.screen.pooled.median_ms, 2),
      in_a_row_unpooled_over_pooled: round(out.in_a_row.unpooled.median_ms / out.in_a_row.pooled.median_ms, 2),
    };
    ctx.log(
      `${label}: screen median ${out.screen.pooled.median_ms} ms pooled, ${out.screen.unpooled.median_ms} ms unpooled (${ratio.screen_unpooled_over_pooled}×); ` +
        `in a row ${out.in_a_row.pooled.median_ms} / ${out.in_a_row.unpooled.median_ms} ms (${ratio.in_a_row_unpooled_over_pooled}×)`,
    );
    return { ...out, ...ratio, rounds };
  } finally {
    await pooled.close();
    await unpooled.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export const inspectorSuite: BenchSuite = {
  name: 'inspector',
  description: "the Inspector's campaigns + tasks + queues on production, readers kept open (the pool) vs opened per call, on loopback and through a proxy adding delay",
  async run(ctx: BenchContext) {
    const rounds = ctx.quick ? 8 : 40;
    const delay_ms = 2;
    const name = `chimera_bench_insp_${process.pid}`;
    const prefix = `bench-insp:${process.pid}:`;
    const admin = new pg.Client({ connectionString: PG() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const dataDir = mkdtempSync(join(tmpdir(), 'chimera-bench-insp-'));
    const proxies: { close(): Promise<void> }[] = [];
    try {
      const env = { CHIMERA_POSTGRES_URL: via(PG(), null, name), CHIMERA_REDIS_URL: REDIS(), CHIMERA_REDIS_PREFIX: prefix };
      const config = loadConfig({ env, overrides: { data_dir: dataDir } });
      // the data: a production run of the bench's own
      const writer = await StudioService.open({ config });
      await writer.call('backend/switch', { kind: 'production' });
      await writer.call('campaigns/create', { title: 'Inspected', goal: 'Teach denim repair', persona_id: 'aria' });
      await writer.call('sim/step', { count: ctx.quick ? 60 : 200 });
      await writer.close();

      const loopback = await compare(ctx, 'loopback', config, rounds);
      const pgProxy = await delayingProxy(PG(), 5432, delay_ms);
      const redisProxy = await delayingProxy(REDIS(), 6379, delay_ms);
      proxies.push(pgProxy, redisProxy);
      const far = loadConfig({ env: { ...env, CHIMERA_POSTGRES_URL: via(PG(), pgProxy.port, name), CHIMERA_REDIS_URL: via(REDIS(), redisProxy.port) }, overrides: { data_dir: dataDir } });
      const delayed = await compare(ctx, `${delay_ms} ms each way`, far, rounds);
      return { loopback, [`delayed_${delay_ms}ms_each_way`]: delayed };
    } finally {
      for (const p of proxies) await p.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      const r = createClient({ url: REDIS() });
      await r.connect();
      for await (const keys of r.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length) await r.del(keys);
      await r.quit();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
