/**
 * The Upstash cache: Redis over HTTPS (REST), for edge runtimes that cannot open TCP
 * sockets. It runs the same commands and Lua scripts as the TCP adapter, so the
 * behaviour is identical; a hit is one HTTP request (EVALSHA).
 *
 * The @upstash/redis client is created by the entry point (runtime/cache_wiring.ts) and must
 * be configured there with `automaticDeserialization: false` (otherwise it would
 * JSON-parse our cached text), `retry: { retries: 0 }` (the reader already falls back
 * to the database; its default retries would hold a request for seconds) and a
 * `signal` *function* for its timeout (with a plain signal, an aborted request
 * resolves with the abort reason as if it were a result).
 */
import { Redis as UpstashRedis } from "@upstash/redis";
import type { Cache } from "./cache.ts";
import { type RedisCacheOptions, RedisProtocolCache } from "./redis.ts";

/** The slice of an @upstash/redis client the adapter needs. */
export interface UpstashCommandClient {
  /** Runs one raw command, as `redis.exec(["GET", key])` does. */
  exec(args: [command: string, ...args: string[]]): Promise<unknown>;
}

/**
 * The cache over Upstash (Redis over HTTPS), for runtimes without TCP sockets. Same
 * commands and Lua scripts as `redisCache`, so the behaviour is identical.
 *
 * @example
 * ```ts ignore
 * import { CachedReader, createUpstashClient, upstashCache } from "@campaign-analytics/core/cache";
 *
 * const client = createUpstashClient("https://example.upstash.io", "token", 1000);
 * const reader = new CachedReader({ cache: upstashCache(client, { keyPrefix: "ca:" }) });
 * ```
 *
 * @param client A client from `createUpstashClient` (or any with the same `exec`).
 * @param options Key prefix and per-operation timeout (default 1000 ms).
 * @returns The cache.
 */
export function upstashCache(client: UpstashCommandClient, options: RedisCacheOptions = {}): Cache {
  return new RedisProtocolCache(
    "upstash",
    ([command, ...args]) => client.exec([command, ...args]),
    () => Promise.resolve(), // stateless HTTP: nothing to release
    // A REST round trip (TLS, maybe another region) needs more headroom than TCP.
    { ...options, timeoutMs: options.timeoutMs ?? 1_000 },
  );
}

/**
 * An @upstash/redis client set up for the cache (see lib/cache/upstash.ts for why).
 *
 * @example
 * ```ts ignore
 * import { createUpstashClient, upstashCache } from "@campaign-analytics/core/cache";
 *
 * const client = createUpstashClient("https://example.upstash.io", "token", 1000);
 * const cache = upstashCache(client);
 * ```
 */
export function createUpstashClient(
  url: string,
  token: string,
  timeoutMs: number,
): UpstashCommandClient {
  return new UpstashRedis({
    url,
    token,
    automaticDeserialization: false,
    enableTelemetry: false,
    // `false` would still try twice; zero retries is one request.
    retry: { retries: 0 },
    signal: () => AbortSignal.timeout(timeoutMs),
  });
}
