/**
 * Builds the cache an entry point's settings ask for (see lib/cache/settings.ts). This file opens sockets (the Redis TCP client:
 * runtime/resp_client.ts for redis://, node-redis for rediss:// or when `REDIS_CLIENT=node-redis`),
 * which is why it lives outside lib/: lib/ only receives connected clients through
 * small interfaces.
 */
import { createClient } from "@redis/client";
import type { Cache, CachedReader } from "../lib/cache/cache.ts";
import { MemoryCache } from "../lib/cache/memory.ts";
import { redisCache, type RedisCommandClient } from "../lib/cache/redis.ts";
import { createUpstashClient, upstashCache } from "../lib/cache/upstash.ts";
import {
  type CacheSettings,
  readerFor,
  REDIS_TIMEOUT_MS,
  redisClientFor,
  UPSTASH_TIMEOUT_MS,
} from "../lib/cache/settings.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { backoffCeiling } from "../lib/retry.ts";
import { RespClient } from "./resp_client.ts";

/** Reconnection waits: doubling from 50 ms up to 2 s, plus up to 100 ms of jitter. */
const RECONNECT_BACKOFF = { baseDelayMs: 50, maxDelayMs: 2_000 };

/** How long start-up waits for a first Redis connection before serving without it. */
const CONNECT_TIMEOUT_MS = 2_000;

export interface RedisConnection extends RedisCommandClient {
  /** True once connected, false if not within `ms` (the client keeps trying). Never rejects. */
  waitUntilReady(ms: number): Promise<boolean>;
}

/** Which Redis TCP client: the native RESP2 one (default) or node-redis. */
export type RedisClientKind = "native" | "node-redis";

/**
 * A connected-or-connecting Redis client: the native RESP2 client (runtime/resp_client.ts)
 * unless `client` asks for node-redis. Both fail fast while disconnected and reconnect
 * with capped backoff.
 */
export function createRedisClient(
  url: string,
  options: { connectTimeoutMs?: number; logger?: Logger; client?: RedisClientKind } = {},
): RedisConnection {
  if (options.client === "node-redis") return createNodeRedisClient(url, options);
  const client = new RespClient(url, {
    connectTimeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    logger: options.logger,
  });
  return {
    sendCommand: (args) => client.sendCommand(args),
    close: () => client.close(),
    waitUntilReady: (ms) => client.waitUntilReady(ms),
  };
}

/**
 * A node-redis client configured to fail fast: no offline queue (a command while
 * disconnected fails at once), a connect timeout, and endless reconnection with capped
 * backoff. Connection losses are logged once per change of state.
 */
export function createNodeRedisClient(
  url: string,
  options: { connectTimeoutMs?: number; logger?: Logger } = {},
): RedisConnection {
  const logger = options.logger ?? silentLogger;
  const client = createClient({
    url,
    RESP: 2,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) =>
        backoffCeiling(RECONNECT_BACKOFF, retries) + Math.floor(Math.random() * 100),
    },
  });
  const where = safeRedisLocation(url);
  let state: "connecting" | "ready" | "down" = "connecting";
  client.on("ready", () => {
    if (state === "down") logger.info("redis connection restored", { redis: where });
    state = "ready";
  });
  // Without an "error" listener node-redis would throw; each failed reconnect emits one.
  client.on("error", (error: Error) => {
    if (state !== "down") {
      logger.warn("redis connection failing", { redis: where, error: error.message });
    }
    state = "down";
  });
  // Not awaited: with an endless reconnect strategy, connect() settles only on success.
  const connected = client.connect().then(() => true, () => false);
  return {
    sendCommand: (args) => client.sendCommand(args),
    close() {
      client.destroy(); // immediate: close() would wait for replies a dead server never sends
      return Promise.resolve();
    },
    async waitUntilReady(ms) {
      if (client.isReady) return true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<boolean>((resolve) =>
        timer = setTimeout(() => resolve(false), ms)
      );
      try {
        return await Promise.race([connected, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The reader handlers use: the configured cache, TTL, and `CACHE_DISABLED`. */
export async function createCachedReader(
  settings: CacheSettings,
  logger: Logger,
): Promise<CachedReader> {
  return readerFor(await createCache(settings, logger), settings, logger);
}

/** The Cache the settings ask for (memory when no Redis is configured). */
export async function createCache(settings: CacheSettings, logger: Logger): Promise<Cache> {
  const keyPrefix = settings.CACHE_KEY_PREFIX;
  if (settings.REDIS_URL) {
    const client = redisClientFor(settings);
    const connection = createRedisClient(settings.REDIS_URL, { logger, client });
    const where = safeRedisLocation(settings.REDIS_URL);
    if (await connection.waitUntilReady(CONNECT_TIMEOUT_MS)) {
      logger.info("cache: redis", { redis: where, client });
    } else {
      logger.warn("cache: redis not reachable yet, answering from the database until it is", {
        redis: where,
      });
    }
    return redisCache(connection, {
      keyPrefix,
      timeoutMs: settings.CACHE_TIMEOUT_MS ?? REDIS_TIMEOUT_MS,
    });
  }
  if (settings.UPSTASH_REDIS_REST_URL && settings.UPSTASH_REDIS_REST_TOKEN) {
    const timeoutMs = settings.CACHE_TIMEOUT_MS ?? UPSTASH_TIMEOUT_MS;
    const client = createUpstashClient(
      settings.UPSTASH_REDIS_REST_URL,
      settings.UPSTASH_REDIS_REST_TOKEN,
      timeoutMs,
    );
    logger.info("cache: upstash", { url: new URL(settings.UPSTASH_REDIS_REST_URL).origin });
    return upstashCache(client, { keyPrefix, timeoutMs });
  }
  logger.info("cache: in-memory LRU (single process)", {
    maxEntries: settings.CACHE_MAX_ENTRIES,
    maxBytes: settings.CACHE_MAX_BYTES,
  });
  return new MemoryCache({
    maxEntries: settings.CACHE_MAX_ENTRIES,
    maxBytes: settings.CACHE_MAX_BYTES,
  });
}

/** host:port of a Redis URL, without credentials, for logs. */
function safeRedisLocation(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
}
