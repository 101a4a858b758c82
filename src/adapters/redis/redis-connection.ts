/**
 * One connection to a Redis server (node-redis 5; the choice is measured in
 * bench/suites/redis-client.ts), shared by the ports made on it and released by each.
 *
 * - The URL says it all: `redis://` or `rediss://` (TLS), `user:password@`, `/db`.
 * - Reconnects after a lost connection (a `CLIENT KILL`, a restarted server) for as long as the
 *   connection is open, with a capped, jittered exponential backoff (base_ms · 2^n, at most
 *   max_ms, then × 0.5..1). Only the first connect gives up: after connect_timeout_ms.
 * - A command issued while disconnected fails at once (code REDIS_OFFLINE) rather than waiting
 *   in a queue to be sent who knows when: the caller decides whether to retry, and waitReady()
 *   waits for the reconnect. A command the server does not answer within command_timeout_ms
 *   fails (REDIS_TIMEOUT); one in flight when the connection drops fails at once
 *   (REDIS_CONNECTION_LOST): it may or may not have run, which the queue's leases make safe
 *   (a lease nobody heard of lapses and is redelivered).
 * - Every error is a BackendUnavailableError naming `host:port`, the command and its key, with
 *   `details.code` (a Node errno such as ECONNREFUSED, a Redis error prefix such as WRONGPASS
 *   or NOSCRIPT, or REDIS_TIMEOUT / REDIS_CLOSED); never the URL's password.
 */
import { createHash, randomInt } from 'node:crypto';
import { createClient, ErrorReply } from 'redis';
import { BackendUnavailableError, ReadOnlyError, ValidationError } from '../../domain/errors.ts';

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://…` for TLS. */
  readonly url: string;
  /** How long the first connect may take before it fails (default 10 000). */
  readonly connect_timeout_ms?: number;
  /** How long a command may wait, queued while reconnecting or for its reply (default 10 000). */
  readonly command_timeout_ms?: number;
  /** The reconnect backoff's first delay and cap (defaults 50 and 2 000). */
  readonly reconnect_base_ms?: number;
  readonly reconnect_max_ms?: number;
  /** CLIENT SETNAME, so an operator can tell our connections apart (default 'chimera-studio'). */
  readonly client_name?: string;
  /**
   * Send only the read commands of READ_COMMANDS: anything else (a write, a script) is refused
   * here, before it is sent, with a ReadOnlyError naming the command and its key.
   */
  readonly readOnly?: boolean;
}

/**
 * What a read-only connection may send (a command, or `command|subcommand`): reads of strings,
 * hashes, lists, sorted sets and sets, key scans and metadata, and the connection's own set-up.
 * No script is allowed (EVAL/EVALSHA may write whatever the script says); MULTI/EXEC/DISCARD only
 * wrap commands that are checked one by one.
 */
export const READ_COMMANDS: ReadonlySet<string> = new Set([
  'get', 'mget', 'strlen', 'getrange',
  'hget', 'hmget', 'hgetall', 'hlen', 'hkeys', 'hvals', 'hexists', 'hscan', 'hstrlen',
  'lrange', 'llen', 'lindex', 'lpos',
  'zrange', 'zrangebyscore', 'zrevrange', 'zrevrangebyscore', 'zcard', 'zcount', 'zscore', 'zrank', 'zscan',
  'smembers', 'scard', 'sismember', 'sscan',
  'scan', 'type', 'ttl', 'pttl', 'exists', 'dbsize',
  'ping', 'info', 'time', 'echo',
  'client|setname', 'client|getname', 'client|id',
  'multi', 'exec', 'discard',
]);

/** Whether a read-only connection may send `args` (by its name, and its subcommand for CLIENT). */
export function isReadCommand(args: readonly (string | number)[]): boolean {
  const name = String(args[0] ?? '').toLowerCase();
  if (name === 'client') return READ_COMMANDS.has(`client|${String(args[1] ?? '').toLowerCase()}`);
  return READ_COMMANDS.has(name);
}

/** What a command's reply may be (RESP2, as node-redis gives it). */
export type Reply = string | number | null | Reply[];

/** The server's address for messages: host:port, never credentials. */
export function redisEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || 6379}`;
  } catch {
    return '(unparseable Redis URL)';
  }
}

/** A Lua script and its SHA1 (what EVALSHA names it by). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function luaScript(name: string, source: string): LuaScript {
  return Object.freeze({ name, source, sha: createHash('sha1').update(source).digest('hex') });
}

type Client = ReturnType<typeof createClient>;

export class RedisConnection {
  readonly endpoint: string;
  /** Only READ_COMMANDS are sent (RedisConnectionOptions.readOnly). */
  readonly readOnly: boolean;
  private refs = 1;
  private closed = false;
  private lastError: string | null = null;
  private readyOnce = false;
  private readonly timeout_ms: number;

  private constructor(
    private readonly client: Client,
    endpoint: string,
    timeout_ms: number,
    readOnly: boolean,
  ) {
    this.endpoint = endpoint;
    this.readOnly = readOnly;
    this.timeout_ms = timeout_ms;
  }

  /** Connects (waiting at most connect_timeout_ms), or throws a BackendUnavailableError naming host:port. */
  static async open(opts: RedisConnectionOptions): Promise<RedisConnection> {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new ValidationError('invalid Redis URL: expected redis://[user:password@]host[:port][/db] or rediss://…');
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
      throw new ValidationError(`invalid Redis URL scheme ${u.protocol}: expected redis:// or rediss://`);
    }
    const endpoint = redisEndpoint(opts.url);
    const connect_ms = opts.connect_timeout_ms ?? 10_000;
    const base = opts.reconnect_base_ms ?? 50;
    const cap = opts.reconnect_max_ms ?? 2_000;
    const started = Date.now();
    let conn: RedisConnection | null = null;
    const client = createClient({
      url: opts.url,
      name: opts.client_name ?? 'chimera-studio',
      commandOptions: { timeout: opts.command_timeout_ms ?? 10_000 },
      disableOfflineQueue: true,
      // no CLIENT SETINFO: one command less for an ACL user to need (CLIENT SETNAME names us)
      disableClientInfo: true,
      socket: {
        connectTimeout: Math.min(connect_ms, 5_000),
        reconnectStrategy: (retries: number, cause: Error) => {
          if (conn?.closed) return false;
          // the server answered and refused us (WRONGPASS, NOAUTH, a bad db index): trying again will not help
          if (!conn?.readyOnce && cause instanceof ErrorReply) {
            return new BackendUnavailableError(`redis ${endpoint}: the server refused the connection: ${cause.message}`, { endpoint, code: codeOf(cause) ?? 'ERR' });
          }
          if (!conn?.readyOnce && Date.now() - started >= connect_ms) {
            return new BackendUnavailableError(`redis ${endpoint}: cannot connect within ${connect_ms} ms (${cause.message})`, {
              endpoint,
              code: codeOf(cause) ?? 'REDIS_CONNECT_TIMEOUT',
            });
          }
          const delay = Math.min(cap, base * 2 ** Math.min(retries, 20));
          return Math.max(1, Math.round(delay / 2 + randomInt(Math.max(1, Math.round(delay / 2)))));
        },
      },
    });
    conn = new RedisConnection(client, endpoint, opts.command_timeout_ms ?? 10_000, opts.readOnly ?? false);
    const c = conn;
    // without a listener an 'error' event would end the process; the message is kept for the next failure's text
    client.on('error', (e: Error) => {
      c.lastError = e.message;
    });
    client.on('ready', () => {
      c.readyOnce = true;
      c.lastError = null;
    });
    try {
      await client.connect();
    } catch (e) {
      try {
        client.destroy();
      } catch {
        // already closed by the failed connect
      }
      if (e instanceof BackendUnavailableError) throw e;
      // our reconnect strategy's verdict on the first connect, wrapped by node-redis
      const original = (e as { originalError?: unknown }).originalError;
      if (original instanceof BackendUnavailableError) throw original;
      throw c.wrap(e, 'connect', '');
    }
    return conn;
  }

  /** Whether the socket is up now (false while reconnecting). */
  get ready(): boolean {
    return this.client.isReady;
  }

  /** Resolves once the connection is up (at once when it is), or rejects after `timeout_ms`. */
  waitReady(timeout_ms = this.timeout_ms): Promise<void> {
    if (this.client.isReady) return Promise.resolve();
    this.usable('waitReady', '');
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off('ready', done);
        reject(new BackendUnavailableError(`redis ${this.endpoint}: not connected within ${timeout_ms} ms${this.lastError ? ` (${this.lastError})` : ''}`, { endpoint: this.endpoint, code: 'REDIS_OFFLINE' }));
      }, timeout_ms);
      this.client.on('ready', done);
    });
  }

  /** One more port shares this connection; each calls release() once. */
  retain(): this {
    if (this.closed) throw new BackendUnavailableError(`redis ${this.endpoint}: connection is closed`, { endpoint: this.endpoint, code: 'REDIS_CLOSED' });
    this.refs += 1;
    return this;
  }

  /** Drops one reference; the last closes the connection (QUIT, or a hard close when the server is gone). */
  async release(): Promise<void> {
    if (this.closed) return;
    this.refs -= 1;
    if (this.refs > 0) return;
    this.closed = true;
    if (this.client.isReady) {
      await this.client.close().catch(() => this.client.destroy());
    } else {
      this.client.destroy();
    }
  }

  /** One command; `key` names what it touched in errors. */
  async cmd(args: readonly (string | number)[], key = ''): Promise<Reply> {
    this.usable(String(args[0]), key);
    this.readable(args, key);
    try {
      return (await this.client.sendCommand(args.map(String))) as Reply;
    } catch (e) {
      throw this.wrap(e, String(args[0]), key);
    }
  }

  /** Several commands in one MULTI/EXEC (atomic: nothing runs between them); their replies in order. */
  async multi(cmds: readonly (readonly (string | number)[])[], key = ''): Promise<Reply[]> {
    this.usable('MULTI', key);
    for (const a of cmds) this.readable(a, key);
    const m = this.client.multi();
    for (const a of cmds) m.addCommand(a.map(String));
    try {
      // node-redis gives MULTI no command timeout: this deadline is ours
      return (await deadline(m.exec(), this.timeout_ms)) as unknown as Reply[];
    } catch (e) {
      throw this.wrap(e, `MULTI (${cmds.map((c) => c[0]).join(' ')})`, key);
    }
  }

  /** Runs a Lua script by EVALSHA, loading it with EVAL when the server does not have it (NOSCRIPT: a restarted or flushed server). */
  async script(s: LuaScript, keys: readonly string[], argv: readonly (string | number)[]): Promise<Reply> {
    const what = `script ${s.name}`;
    this.usable(what, keys[0] ?? '');
    // a script may write anything: none runs on a read-only connection
    if (this.readOnly) this.refuse(`EVALSHA (${what})`, keys[0] ?? '');
    const tail = [String(keys.length), ...keys, ...argv.map(String)];
    try {
      return (await this.client.sendCommand(['EVALSHA', s.sha, ...tail])) as Reply;
    } catch (e) {
      if (!(e instanceof ErrorReply && e.message.startsWith('NOSCRIPT'))) throw this.wrap(e, what, keys[0] ?? '');
    }
    try {
      return (await this.client.sendCommand(['EVAL', s.source, ...tail])) as Reply;
    } catch (e) {
      throw this.wrap(e, what, keys[0] ?? '');
    }
  }

  /**
   * Every key matching the glob `pattern` (SCAN, never KEYS), optionally of one type. `count` is
   * SCAN's COUNT hint: each call walks about that many keys, so a pass over N keys costs about
   * N / count round trips (and each call holds the server for its share of the walk).
   */
  async scan(pattern: string, type?: 'list' | 'hash' | 'string' | 'zset', count = 1000): Promise<string[]> {
    const out = new Set<string>();
    let cursor = '0';
    do {
      const r = (await this.cmd(['SCAN', cursor, 'MATCH', pattern, 'COUNT', count, ...(type ? ['TYPE', type] : [])], pattern)) as [string, string[]];
      cursor = r[0];
      for (const k of r[1]) out.add(k);
    } while (cursor !== '0');
    return [...out];
  }

  /** Refuses, before it is sent, a command a read-only connection may not send. */
  private readable(args: readonly (string | number)[], key: string): void {
    if (this.readOnly && !isReadCommand(args)) this.refuse(String(args[0]).toUpperCase() + (String(args[0]).toLowerCase() === 'client' ? ` ${String(args[1] ?? '').toUpperCase()}` : ''), key);
  }

  private refuse(command: string, key: string): never {
    throw new ReadOnlyError(`write refused: redis ${this.endpoint} is open read-only for this profile; ${command}${key ? ` ${key}` : ''} was not sent (only read commands are); nothing was written`, {
      endpoint: this.endpoint,
      refused: command,
      ...(key ? { key } : {}),
    });
  }

  private usable(what: string, key: string): void {
    if (this.closed) {
      throw new BackendUnavailableError(`redis ${this.endpoint}: ${what}${key ? ` ${key}` : ''}: connection is closed`, { endpoint: this.endpoint, code: 'REDIS_CLOSED' });
    }
  }

  /** The error a failed command becomes: what failed, where, and the driver's code. */
  private wrap(e: unknown, what: string, key: string): Error {
    const err = e as Error;
    const kind = err?.constructor?.name ?? err?.name;
    const timedOut = kind === 'TimeoutError' || err?.name === 'TimeoutError';
    const code = timedOut ? 'REDIS_TIMEOUT' : (DRIVER_CODES[kind ?? ''] ?? codeOf(err) ?? 'REDIS_ERROR');
    const state = this.client.isReady ? '' : ` (disconnected, reconnecting${this.lastError ? `: ${this.lastError}` : ''})`;
    const why = timedOut ? `no answer within ${this.timeout_ms} ms` : err?.message ?? String(e);
    return new BackendUnavailableError(`redis ${this.endpoint}: ${what}${key ? ` ${key}` : ''} failed: ${why}${state}`, {
      endpoint: this.endpoint,
      code,
    });
  }
}

/** node-redis's own errors, by class name, as codes. */
const DRIVER_CODES: Readonly<Record<string, string>> = {
  ClientOfflineError: 'REDIS_OFFLINE',
  ClientClosedError: 'REDIS_CLOSED',
  SocketClosedUnexpectedlyError: 'REDIS_CONNECTION_LOST',
  ConnectionTimeoutError: 'REDIS_CONNECT_TIMEOUT',
  SocketTimeoutError: 'REDIS_TIMEOUT',
};

/** `p`, or a TimeoutError after `ms`. */
function deadline<R>(p: Promise<R>, ms: number): Promise<R> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new Error(`no answer within ${ms} ms`);
      e.name = 'TimeoutError';
      reject(e);
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A Node errno (ECONNREFUSED) or a Redis error's prefix (WRONGPASS, NOAUTH, WRONGTYPE, NOSCRIPT). */
function codeOf(e: unknown): string | null {
  const c = (e as { code?: unknown } | null)?.code;
  if (typeof c === 'string') return c;
  if (e instanceof ErrorReply) return /^([A-Z]+)\b/.exec(e.message)?.[1] ?? 'ERR';
  return null;
}
