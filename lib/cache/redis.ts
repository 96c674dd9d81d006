/**
 * The Redis cache over TCP, plus the command-level core it shares with the Upstash
 * (REST) adapter: both speak Redis commands, only the transport differs.
 *
 * Clients: the server uses the project's own RESP2 client on a Deno socket
 * (runtime/resp_client.ts) for redis:// and node-redis (`@redis/client`, also what a
 * library user may pass in) for rediss:// or with `REDIS_CLIENT=node-redis`. Neither puts a
 * deadline on the wait for a reply, so this module puts its own on every operation.
 * The client is created and connected by the entry point (runtime/cache_wiring.ts) and
 * passed in through `RedisCommandClient`: lib/ opens no sockets.
 *
 * A hit costs one round trip: one EVALSHA of a Lua script that reads the tenant's
 * version token (creating a fresh one when it is missing) and the entries under it.
 * After a Redis restart the first call answers NOSCRIPT and is repeated as EVAL,
 * which loads the script again. When this process already holds an entry's text for
 * the current version (read less than `localEntryMs` ago), the script answers "yours
 * is current" for it instead of the text: entries under a version never change, so only
 * the version must come from Redis for "a committed write is visible to the next read
 * on any replica".
 *
 * Coalesced version reads: at most `lookupsInFlight` (default 1) lookups per tenant are
 * in flight. Lookups of that tenant that arrive meanwhile wait together for the next one,
 * which is sent when one in flight has answered, i.e. after every one of them arrived; it
 * carries each distinct query key once. A lookup therefore never uses a version read
 * sent before it arrived: the version it gets was read after it started, so every write
 * committed (bumped) before it started is seen. Under load this turns N lookups of a
 * tenant into one round trip; an idle tenant's lookup is sent at once. A lookup waits at
 * most for one in flight plus its own, each under the operation deadline.
 */
import { toHex } from "../encoding.ts";
import { z } from "zod";
import { type Cache, type CacheBackend, cacheKeys, newVersionToken } from "./cache.ts";
import type { VersionedLookup } from "./cache.ts";

/** The slice of a Redis client the adapter needs (node-redis's client has it). */
export interface RedisCommandClient {
  /** Sends one command; resolves with the raw RESP2 reply, rejects with the server's error. */
  sendCommand(args: string[]): Promise<unknown>;
  /** Releases the connection (promptly, even while Redis is unreachable). */
  close(): Promise<void>;
}

/** Key prefix and per-operation timeout of the Redis and Upstash caches. */
export interface RedisCacheOptions {
  /** Prefix of every key, so several apps or test runs can share one Redis. */
  keyPrefix?: string;
  /** Deadline of one cache operation; past it the operation fails and the reader bypasses. */
  timeoutMs?: number;
  /**
   * How long this process may reuse an entry's text it already read (0: never). The
   * version is still read from Redis on every lookup; only the entry's bytes are not
   * sent again while the version is the one they were stored under (an entry under a
   * version never changes). Default 1000 ms, below the shortest entry TTL, so a copy
   * outlives its entry in Redis by at most that.
   */
  localEntryMs?: number;
  /** Most entries kept in this process for `localEntryMs` (default 1000). */
  localEntries?: number;
  /**
   * Lookups of one tenant in flight at once (default 1). Lookups that arrive while this
   * many are in flight wait together for the next one, sent when one has answered.
   */
  lookupsInFlight?: number;
}

/** Sends one command given as strings and resolves with its raw reply. */
export type SendCommand = (args: string[]) => Promise<unknown>;

export class CacheTimeoutError extends Error {
  constructor(operation: string, ms: number) {
    super(`cache ${operation} timed out after ${ms} ms`);
    this.name = "CacheTimeoutError";
  }
}

export class CacheReplyError extends Error {
  constructor(operation: string, reply: unknown) {
    super(`unexpected reply to ${operation}: ${JSON.stringify(reply)?.slice(0, 200)}`);
    this.name = "CacheReplyError";
  }
}

/** A Lua script run by SHA1, with its source kept for the NOSCRIPT fallback. */
class LuaScript {
  #sha?: string;
  constructor(readonly source: string) {}

  /** The SHA1 once computed (every call after the first). */
  get known(): string | undefined {
    return this.#sha;
  }

  async sha(): Promise<string> {
    if (this.#sha === undefined) {
      const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(this.source));
      this.#sha = toHex(new Uint8Array(digest));
    }
    return this.#sha;
  }
}

/**
 * KEYS[1] version key; ARGV[1] entry key up to the version; ARGV[2] a fresh token; then
 * per query: ARGV[i] ":" .. query key, ARGV[i+1] the version of the entry text this
 * process already has ("" for none). Answers {version, per query: 1 when the text this
 * process has is under the current version, else the entry (nil on a miss)}.
 * GET-then-SET inside a script is atomic, i.e. SET NX: when the version is missing the
 * new token wins, and no entry can exist under it yet. The entry keys carry the same
 * `{tenant}` hash tag as KEYS[1], so all are in one cluster slot.
 */
const LOOKUP_SCRIPT = new LuaScript(`
local version = redis.call('GET', KEYS[1])
local out = {}
if not version then
  redis.call('SET', KEYS[1], ARGV[2])
  out[1] = ARGV[2]
  for i = 3, #ARGV, 2 do out[#out + 1] = false end
  return out
end
out[1] = version
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] ~= '' and ARGV[i + 1] == version then
    out[#out + 1] = 1
  else
    out[#out + 1] = redis.call('GET', ARGV[1] .. version .. ARGV[i])
  end
end
return out
`);

/** KEYS[1] version key; ARGV[1] a fresh token, set only when no version exists. */
const VERSION_SCRIPT = new LuaScript(`
local version = redis.call('GET', KEYS[1])
if version then return version end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`);

const StringReplySchema = z.string();
const OptionalStringReplySchema = z.string().nullable();

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.includes("NOSCRIPT");
}

interface LocalEntry {
  version: string;
  value: string;
  until: number;
}

interface Waiter {
  querySuffix: string;
  resolve(found: VersionedLookup): void;
  reject(error: unknown): void;
}

interface TenantReads {
  versionKey: string;
  entryPrefix: string;
  /** Lookups in flight. */
  inFlight: number;
  /** Lookups that arrived after the last one in flight was sent. */
  queued: Waiter[];
}

/** Any transport that sends Redis commands: node-redis over TCP, @upstash/redis over REST. */
export class RedisProtocolCache implements Cache {
  readonly backend: CacheBackend;
  readonly #send: SendCommand;
  readonly #close: () => Promise<void>;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #localEntryMs: number;
  readonly #localEntries: number;
  readonly #lookupsInFlight: number;
  /** Entry texts read lately, by entry key without the version (insertion order = age). */
  readonly #local = new Map<string, LocalEntry>();
  /** Per tenant: whether a lookup is in flight, and the lookups waiting for the next. */
  readonly #reads = new Map<string, TenantReads>();

  constructor(
    backend: CacheBackend,
    send: SendCommand,
    close: () => Promise<void>,
    options: RedisCacheOptions = {},
  ) {
    this.backend = backend;
    this.#send = send;
    this.#close = close;
    this.#prefix = options.keyPrefix ?? "ca:";
    this.#timeoutMs = options.timeoutMs ?? 250;
    this.#localEntryMs = options.localEntryMs ?? 1_000;
    this.#localEntries = options.localEntries ?? 1_000;
    this.#lookupsInFlight = Math.max(1, options.lookupsInFlight ?? 1);
  }

  async get(key: string): Promise<string | undefined> {
    const reply = await this.#command(["GET", this.#prefix + key]);
    return this.#expect("GET", OptionalStringReplySchema, reply) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const ttl = String(Math.max(1, Math.ceil(ttlSeconds)));
    await this.#command(["SET", this.#prefix + key, value, "EX", ttl]);
  }

  async dataVersion(tenant: string): Promise<string> {
    const reply = await this.#script(
      VERSION_SCRIPT,
      [this.#prefix + cacheKeys.version(tenant)],
      [newVersionToken()],
    );
    return this.#expect("version", StringReplySchema, reply);
  }

  async bumpDataVersion(tenant: string): Promise<string> {
    const token = newVersionToken();
    await this.#command(["SET", this.#prefix + cacheKeys.version(tenant), token]);
    return token;
  }

  lookup(tenant: string, queryKey: string): Promise<VersionedLookup> {
    return new Promise((resolve, reject) => {
      let reads = this.#reads.get(tenant);
      if (reads === undefined) {
        reads = {
          versionKey: this.#prefix + cacheKeys.version(tenant),
          entryPrefix: this.#prefix + cacheKeys.entryPrefix(tenant),
          inFlight: 0,
          queued: [],
        };
        this.#reads.set(tenant, reads);
      }
      // Joins only a read not sent yet: the one in flight was sent before this arrived.
      reads.queued.push({ querySuffix: `:${queryKey}`, resolve, reject });
      if (reads.inFlight < this.#lookupsInFlight) this.#sendReads(tenant, reads);
    });
  }

  /** Sends one lookup for every queued read of `tenant`; the next queue waits for it. */
  #sendReads(tenant: string, reads: TenantReads): void {
    const waiters = reads.queued;
    reads.queued = [];
    reads.inFlight++;
    const now = Date.now();
    const queries = new Map<string, { local?: LocalEntry; waiters: Waiter[] }>();
    for (const waiter of waiters) {
      const query = queries.get(waiter.querySuffix);
      if (query !== undefined) {
        query.waiters.push(waiter);
        continue;
      }
      const localKey = reads.entryPrefix + waiter.querySuffix;
      let local = this.#local.get(localKey);
      if (local !== undefined && local.until <= now) {
        this.#local.delete(localKey);
        local = undefined;
      }
      queries.set(waiter.querySuffix, { local, waiters: [waiter] });
    }
    const args = [reads.entryPrefix, newVersionToken()];
    for (const [querySuffix, query] of queries) {
      args.push(querySuffix, query.local?.version ?? "");
    }
    const done = () => {
      // Before anyone is answered: a lookup made by an answered caller starts a new read.
      reads.inFlight--;
      if (reads.queued.length > 0) this.#sendReads(tenant, reads);
      else if (reads.inFlight === 0 && this.#reads.get(tenant) === reads) {
        this.#reads.delete(tenant);
      }
    };
    this.#script(LOOKUP_SCRIPT, [reads.versionKey], args).then((reply) => {
      let answers: [Waiter[], VersionedLookup][];
      try {
        answers = this.#lookupAnswers(reply, queries, reads.entryPrefix, now);
      } catch (error) {
        done();
        for (const waiter of waiters) waiter.reject(error);
        return;
      }
      done();
      for (const [waiting, found] of answers) {
        for (const waiter of waiting) waiter.resolve(found);
      }
    }, (error) => {
      done();
      for (const waiter of waiters) waiter.reject(error);
    });
  }

  /** Each query's waiters and answer, from the lookup script's reply (checked by hand). */
  #lookupAnswers(
    reply: unknown,
    queries: Map<string, { local?: LocalEntry; waiters: Waiter[] }>,
    entryPrefix: string,
    now: number,
  ): [Waiter[], VersionedLookup][] {
    if (
      !Array.isArray(reply) || reply.length !== queries.size + 1 || typeof reply[0] !== "string"
    ) {
      throw new CacheReplyError("lookup", reply);
    }
    const version = reply[0];
    let i = 1;
    const answers: [Waiter[], VersionedLookup][] = [];
    for (const [querySuffix, query] of queries) {
      const item = reply[i++];
      let value: string | undefined;
      if (item === 1 && query.local !== undefined && query.local.version === version) {
        value = query.local.value;
      } else if (typeof item === "string") {
        value = item;
        this.#keepLocal(entryPrefix + querySuffix, version, item, now);
      } else if (item !== null && item !== undefined) {
        throw new CacheReplyError("lookup", reply);
      }
      answers.push([query.waiters, { version, value }]);
    }
    return answers;
  }

  #keepLocal(localKey: string, version: string, value: string, now: number): void {
    if (this.#localEntryMs <= 0) return;
    this.#local.delete(localKey);
    if (this.#local.size >= this.#localEntries) {
      this.#local.delete(this.#local.keys().next().value!);
    }
    this.#local.set(localKey, { version, value, until: now + this.#localEntryMs });
  }

  async ping(): Promise<void> {
    await this.#command(["PING"]);
  }

  close(): Promise<void> {
    this.#local.clear();
    return this.#close();
  }

  async #script(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#command(["EVALSHA", script.known ?? await script.sha(), ...tail]);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return await this.#command(["EVAL", script.source, ...tail]); // also caches the script
    }
  }

  /**
   * One command under the deadline: a frozen or unreachable server costs at most
   * timeoutMs (give or take one sweep). One shared sweeper rather than a timer per
   * command, which showed up in profiles of the cached hot path.
   */
  #command(args: string[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiting = {
        deadline: Date.now() + this.#timeoutMs,
        expire: () => reject(new CacheTimeoutError(args[0], this.#timeoutMs)),
      };
      this.#waiting.add(waiting);
      this.#sweepWhileWaiting();
      this.#send(args).then(resolve, reject).finally(() => this.#waiting.delete(waiting));
    });
  }

  readonly #waiting = new Set<{ deadline: number; expire: () => void }>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  #sweepWhileWaiting(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const waiting of this.#waiting) {
        if (waiting.deadline > now) continue;
        this.#waiting.delete(waiting);
        waiting.expire();
      }
      if (this.#waiting.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, Math.max(5, Math.min(25, this.#timeoutMs / 4)));
  }

  #expect<T>(operation: string, schema: z.ZodType<T>, reply: unknown): T {
    const parsed = schema.safeParse(reply);
    if (!parsed.success) throw new CacheReplyError(operation, reply);
    return parsed.data;
  }
}

/**
 * The Redis (TCP) cache over a connected client.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "@redis/client";
 * import { CachedReader, redisCache } from "@campaign-analytics/core/cache";
 *
 * const client = createClient({ url: "redis://127.0.0.1:6379", RESP: 2 });
 * await client.connect();
 * const cache = redisCache({
 *   sendCommand: (args) => client.sendCommand(args),
 *   close: () => client.quit().then(() => {}),
 * }, { keyPrefix: "ca:" });
 * const reader = new CachedReader({ cache });
 * ```
 */
export function redisCache(client: RedisCommandClient, options: RedisCacheOptions = {}): Cache {
  return new RedisProtocolCache(
    "redis",
    (args) => client.sendCommand(args),
    () => client.close(),
    options,
  );
}
