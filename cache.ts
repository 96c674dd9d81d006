/**
 * The versioned, never-stale read-through cache of Campaign Analytics, over memory,
 * Redis (node-redis) or Upstash (HTTP). Answers are keyed by tenant and a data version
 * that every committed write bumps, so the first read after a write sees it.
 *
 * Portability: {@linkcode MemoryCache} and the Upstash adapter (HTTP `fetch`) run on
 * Deno, Node, Bun and edge runtimes; the Redis adapter needs TCP sockets.
 *
 * @example Read through a memory cache
 * ```ts
 * import { CachedReader, MemoryCache } from "@campaign-analytics/core/cache";
 *
 * const reader = new CachedReader({ cache: new MemoryCache(), ttlSeconds: 60 });
 * const answer = await reader.read("acme", "totals", async () => ({ clicks: 40 }));
 * console.log(answer.clicks); // 40, computed once, then served from the cache
 * await reader.bumpDataVersion("acme"); // after a write: the next read recomputes
 * await reader.close();
 * ```
 *
 * @module
 */
export {
  type Cache,
  type CacheBackend,
  type CacheCounters,
  CachedReader,
  type CachedReaderOptions,
  type CacheHealth,
  type VersionedLookup,
} from "./lib/cache/cache.ts";
export { MemoryCache, type MemoryCacheOptions } from "./lib/cache/memory.ts";
export { redisCache, type RedisCacheOptions, type RedisCommandClient } from "./lib/cache/redis.ts";
export {
  createUpstashClient,
  upstashCache,
  type UpstashCommandClient,
} from "./lib/cache/upstash.ts";
export type { AccessFields, Logger } from "./lib/log.ts";
