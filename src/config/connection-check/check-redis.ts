/**
 * The Redis check: connect with node-redis as the adapters do (the URL's TLS, user, password and
 * database; CLIENT SETNAME; no reconnects), PING for the round trip, INFO for the version and
 * what a deployment should know (a replica refuses writes, Redis Cluster is not followed, no AOF
 * loses queued work on a restart, an evicting policy drops queue keys), and two probes that
 * change nothing: may this user run scripts (the queues are Lua scripts), and read keys under
 * the profile's prefix.
 *
 * `rediss://` against a port that speaks plain Redis would hang in the TLS handshake until the
 * timeout (Redis waits for a line that never comes), so it is probed first: a plain PING on a
 * raw socket, and a RESP answer to it means "this port is not TLS".
 */
import net from 'node:net';
import { createClient } from 'redis';
import { ConfigError } from '../../domain/errors.ts';
import { redisEndpoint } from '../../adapters/redis/redis-connection.ts';
import { checkKeyPart } from '../../adapters/redis/redis-keys.ts';
import { TlsMismatchError, VersionTooOldError, WrongProtocolError } from './classify.ts';
import { timed, type CheckContext, type Findings } from './context.ts';
import { decideVersion } from './versions.ts';

export interface RedisTarget {
  readonly url: string;
  readonly prefix?: string;
}

/** host:port of a Redis URL (what the report names), or null when it does not parse. */
export function redisTarget(url: string): string | null {
  try {
    new URL(url);
  } catch {
    return null;
  }
  return redisEndpoint(url);
}

function parseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('the URL is not valid: expected redis://[user:password@]host[:port][/db] or rediss://… for TLS');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(`the URL's scheme ${u.protocol}// is not Redis's: expected redis:// or rediss:// (TLS)`);
  if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) throw new ConfigError(`the URL's path ${u.pathname} is not a database number: expected /0, /1, …`);
  return u;
}

/** Whether a plain-text PING at host:port gets a RESP answer within `ms` (false on anything else). */
export function answersPlainResp(host: string, port: number, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let buf = '';
    const done = (v: boolean): void => {
      signal.removeEventListener('abort', stop);
      socket.destroy();
      resolve(v);
    };
    const stop = (): void => done(false);
    signal.addEventListener('abort', stop, { once: true });
    socket.setTimeout(ms, stop);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(/^[+\-:$*]/.test(buf));
      else if (buf.length > 512) done(false);
    });
    socket.once('error', stop);
    socket.once('close', stop);
  });
}

/** `INFO`'s `key:value` lines. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** What INFO says a deployment should know. */
export function infoNotes(info: ReadonlyMap<string, string>): string[] {
  const notes: string[] = [];
  const role = info.get('role');
  if (role === 'slave' || role === 'replica') notes.push('the server is a replica: writes are refused (READONLY); usable for a read-only (inspect) profile only');
  if (info.get('cluster_enabled') === '1') notes.push('Redis Cluster is enabled: the adapters talk to this one node and do not follow MOVED redirections');
  if (info.get('aof_enabled') === '0') notes.push('AOF is off (appendonly no): a restart loses queued and leased work since the last snapshot; the adapters README recommends appendonly yes');
  const policy = info.get('maxmemory_policy');
  if (policy && policy !== 'noeviction') notes.push(`maxmemory-policy is ${policy}: under memory pressure Redis may evict queue keys; noeviction is recommended`);
  return notes;
}

/** The error reply of `args`, or null when the command succeeded. */
async function replyError(client: ReturnType<typeof createClient>, args: string[]): Promise<string | null> {
  try {
    await client.sendCommand(args);
    return null;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    // a reply error is an answer; anything else (the connection went) is not a probe's result
    if (/^[A-Z]+ /.test(msg)) return msg;
    throw e;
  }
}

/** Connects, reads the version and the notes into `found`; returns what the ok message says. */
export async function checkRedis(t: RedisTarget, ctx: CheckContext, found: Findings): Promise<string> {
  const url = parseUrl(t.url);
  const prefix = checkKeyPart('redis_prefix', t.prefix ?? '');
  const host = url.hostname.replace(/^\[|\]$/g, '') || 'localhost';
  const port = Number(url.port || 6379);
  if (url.protocol === 'rediss:' && (await answersPlainResp(host, port, Math.min(ctx.remaining(), 2000), ctx.signal))) {
    throw new TlsMismatchError('the URL asks for TLS (rediss://) but the server speaks plain Redis on this port: use redis://, or the server\'s TLS port');
  }
  ctx.checkpoint();
  const client = createClient({
    url: t.url,
    name: 'chimera-studio-check',
    disableClientInfo: true,
    socket: { connectTimeout: ctx.timeout_ms + 1000, reconnectStrategy: false },
  });
  client.on('error', () => {});
  client.on('connect', () => {
    ctx.phase = 'answer';
  });
  const kill = (): void => {
    try {
      client.destroy();
    } catch {
      // already closed
    }
  };
  ctx.signal.addEventListener('abort', kill, { once: true });
  try {
    await client.connect();
    ctx.checkpoint();
    found.latency_ms = (await timed(() => client.sendCommand(['PING']))).ms;
    ctx.checkpoint();
    let info: Map<string, string> | null = null;
    const infoText = await client.sendCommand(['INFO']).catch((e: Error) => {
      if (/^NOPERM/.test(e.message ?? '')) return null;
      throw e;
    });
    if (infoText === null) found.notes.push('this user may not run INFO (NOPERM): the version, role and persistence could not be read');
    else info = parseInfo(String(infoText));
    if (info?.get('redis_mode') === 'sentinel') throw new WrongProtocolError('this is a Redis Sentinel, not a data server: use the address of the primary');
    found.server_version = info?.get('redis_version') ?? null;
    const decision = decideVersion('redis', found.server_version);
    if (!decision.ok) throw new VersionTooOldError(decision.message as string);
    if (decision.message && info) found.notes.push(decision.message);
    if (info) found.notes.push(...infoNotes(info));
    ctx.checkpoint();
    // EVALSHA of a script that cannot exist: NOSCRIPT when scripts are allowed, NOPERM when not; nothing runs
    const script = await replyError(client, ['EVALSHA', '0'.repeat(40), '0']);
    if (script && /^NOPERM/.test(script)) found.notes.push('this user may not run scripts (EVALSHA: NOPERM): fine for a read-only (inspect) profile; the queues of a read-write one are Lua scripts (+@scripting)');
    const probeKey = `${prefix}task_queue:chimera-connection-check`;
    const read = await replyError(client, ['EXISTS', probeKey]);
    if (read && /^NOPERM/.test(read)) found.notes.push(`this user may not read keys under the prefix "${prefix}" (EXISTS ${probeKey}: NOPERM)`);
    await client.close().catch(kill);
    const role = info?.get('role');
    return `connected; ${found.server_version ? `Redis ${found.server_version}` : 'version not read'}${role ? ` (${role === 'slave' ? 'replica' : role})` : ''}`;
  } catch (e) {
    kill();
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', kill);
  }
}
