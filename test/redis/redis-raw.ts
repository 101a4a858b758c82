/**
 * A plain client for tests that act behind the adapters' back, as Chimera's own services (or a
 * careless producer) would: the seed's LPUSH, garbage in a list, CLIENT KILL, key clean-up.
 */
import { createClient } from 'redis';

export class RedisRaw {
  private constructor(readonly client: ReturnType<typeof createClient>) {}

  static async connect(url: string): Promise<RedisRaw> {
    const client = createClient({ url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    await client.connect();
    return new RedisRaw(client);
  }

  /** Every key starting with `prefix` (SCAN). */
  async keys(prefix: string): Promise<string[]> {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
    const out: string[] = [];
    for (const p of [pattern, `{${pattern}`]) {
      let cursor = '0';
      do {
        const r = await this.client.scan(cursor, { MATCH: p, COUNT: 1000 });
        cursor = String(r.cursor);
        out.push(...r.keys);
      } while (cursor !== '0');
    }
    return [...new Set(out)].sort();
  }

  /** Deletes every key of a test's prefix, the hash-tagged auxiliary keys included. */
  async deletePrefix(prefix: string): Promise<number> {
    const keys = await this.keys(prefix);
    for (let i = 0; i < keys.length; i += 500) await this.client.del(keys.slice(i, i + 500));
    return keys.length;
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => this.client.destroy());
  }
}
