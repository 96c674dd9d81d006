/**
 * Builds the cache an entry point asks for through environment variables. This file
 * opens sockets (the Redis TCP client), which is why it lives outside lib/: lib/ only
 * receives the connected clients through small interfaces.
 *
 * - neither `REDIS_URL` nor `UPSTASH_*`: the in-memory LRU (one process only);
 * - `REDIS_URL` (redis:// or rediss://): Redis over TCP with node-redis;
 * - `UPSTASH_REDIS_REST_URL` + `UPSTASH_REDIS_REST_TOKEN`: Upstash over REST.
 * Also: `CACHE_TTL_SECONDS` (300), `CACHE_MAX_ENTRIES` (10000) and `CACHE_MAX_BYTES`
 * (64 MiB) for memory, `CACHE_TIMEOUT_MS` (250 for Redis, 1000 for Upstash),
 * `CACHE_KEY_PREFIX` ("ca:") and `CACHE_DISABLED` (true: every read computes).
 */
import { createClient } from "@redis/client";
import { Redis as UpstashRedis } from "@upstash/redis";
import { z } from "zod";
import { type Cache, CachedReader } from "../lib/cache/cache.ts";
import { MemoryCache } from "../lib/cache/memory.ts";
import { redisCache, type RedisCommandClient } from "../lib/cache/redis.ts";
import { upstashCache, type UpstashCommandClient } from "../lib/cache/upstash.ts";
import { type Env, envFlag, envInteger, parseEnv } from "../lib/config.ts";
import { type Logger, silentLogger } from "../lib/log.ts";

function urlWithProtocols(protocols: string[]) {
  return z.url({ abort: true }).refine((text) => protocols.includes(new URL(text).protocol), {
    message: `expected a ${protocols.map((p) => p.replace(":", "://")).join(" or ")} URL`,
  }).optional();
}

export const CacheEnvSchema = z.object({
  REDIS_URL: urlWithProtocols(["redis:", "rediss:"]),
  UPSTASH_REDIS_REST_URL: urlWithProtocols(["https:", "http:"]),
  UPSTASH_REDIS_REST_TOKEN: z.string().trim().optional(),
  CACHE_TTL_SECONDS: envInteger(300, 1, 7 * 24 * 3600),
  CACHE_MAX_ENTRIES: envInteger(10_000, 1, 100_000_000),
  CACHE_MAX_BYTES: envInteger(64 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024),
  CACHE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).optional(),
  CACHE_KEY_PREFIX: z.string().max(100).default("ca:"),
  CACHE_DISABLED: envFlag,
}).superRefine((env, ctx) => {
  if (env.UPSTASH_REDIS_REST_URL && !env.UPSTASH_REDIS_REST_TOKEN) {
    ctx.addIssue({
      code: "custom",
      path: ["UPSTASH_REDIS_REST_TOKEN"],
      message: "required when UPSTASH_REDIS_REST_URL is set",
    });
  }
  if (env.UPSTASH_REDIS_REST_TOKEN && !env.UPSTASH_REDIS_REST_URL) {
    ctx.addIssue({
      code: "custom",
      path: ["UPSTASH_REDIS_REST_URL"],
      message: "required when UPSTASH_REDIS_REST_TOKEN is set",
    });
  }
  if (env.REDIS_URL && env.UPSTASH_REDIS_REST_URL) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message: "set either REDIS_URL or UPSTASH_REDIS_REST_URL, not both",
    });
  }
});
export type CacheSettings = z.infer<typeof CacheEnvSchema>;

/** Validated cache settings; throws a ConfigError naming each bad variable. */
export function cacheSettingsFromEnv(env: Env): CacheSettings {
  return parseEnv(CacheEnvSchema, env, "cache settings");
}

/** How long start-up waits for a first Redis connection before serving without it. */
const CONNECT_TIMEOUT_MS = 2_000;

export interface RedisConnection extends RedisCommandClient {
  /** True once connected, false if not within `ms` (the client keeps trying). Never rejects. */
  waitUntilReady(ms: number): Promise<boolean>;
}

/**
 * A node-redis client configured to fail fast: no offline queue (a command while
 * disconnected fails at once), a connect timeout, and endless reconnection with capped
 * backoff. Connection losses are logged once per change of state.
 */
export function createRedisClient(
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
        Math.min(50 * 2 ** retries, 2_000) + Math.floor(Math.random() * 100),
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

/** An @upstash/redis client set up for the cache (see lib/cache/upstash.ts for why). */
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

/** The Cache the environment asks for (memory when no Redis is configured). */
export async function createCacheFromEnv(env: Env, logger: Logger): Promise<Cache> {
  const settings = cacheSettingsFromEnv(env);
  return await cacheFromSettings(settings, logger);
}

/** The reader handlers use: the configured cache, TTL, and `CACHE_DISABLED`. */
export async function createCachedReaderFromEnv(env: Env, logger: Logger): Promise<CachedReader> {
  const settings = cacheSettingsFromEnv(env);
  const cache = await cacheFromSettings(settings, logger);
  return new CachedReader({
    cache,
    ttlSeconds: settings.CACHE_TTL_SECONDS,
    enabled: !settings.CACHE_DISABLED,
    logger,
  });
}

async function cacheFromSettings(settings: CacheSettings, logger: Logger): Promise<Cache> {
  const keyPrefix = settings.CACHE_KEY_PREFIX;
  if (settings.REDIS_URL) {
    const connection = createRedisClient(settings.REDIS_URL, { logger });
    const where = safeRedisLocation(settings.REDIS_URL);
    if (await connection.waitUntilReady(CONNECT_TIMEOUT_MS)) {
      logger.info("cache: redis", { redis: where });
    } else {
      logger.warn("cache: redis not reachable yet, answering from the database until it is", {
        redis: where,
      });
    }
    return redisCache(connection, { keyPrefix, timeoutMs: settings.CACHE_TIMEOUT_MS ?? 250 });
  }
  if (settings.UPSTASH_REDIS_REST_URL && settings.UPSTASH_REDIS_REST_TOKEN) {
    const timeoutMs = settings.CACHE_TIMEOUT_MS ?? 1_000;
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
