/**
 * Cache settings from the environment (one schema for the container and the edge):
 *
 * - neither `REDIS_URL` nor `UPSTASH_*`: the in-memory LRU (one process only);
 * - `REDIS_URL` (redis:// or rediss://): Redis over TCP (`REDIS_CLIENT`: `native`, the
 *   default for redis://, or `node-redis`, the default for rediss://);
 * - `UPSTASH_REDIS_REST_URL` + `UPSTASH_REDIS_REST_TOKEN`: Upstash over REST.
 * Also: `CACHE_TTL_SECONDS` (300), `CACHE_MAX_ENTRIES` (10000) and `CACHE_MAX_BYTES`
 * (64 MiB) for memory, `CACHE_TIMEOUT_MS` (250 for Redis, 1000 for Upstash),
 * `CACHE_KEY_PREFIX` ("ca:") and `CACHE_DISABLED` (true: every read computes).
 */
import { z } from "zod";
import { type Env, envFlag, envInteger, parseEnv } from "../config.ts";
import type { Logger } from "../log.ts";
import { type Cache, CachedReader } from "./cache.ts";

function urlWithProtocols(protocols: string[]) {
  return z.url({ abort: true }).refine((text) => protocols.includes(new URL(text).protocol), {
    message: `expected a ${protocols.map((p) => p.replace(":", "://")).join(" or ")} URL`,
  }).optional();
}

export const CacheEnvSchema = z.object({
  REDIS_URL: urlWithProtocols(["redis:", "rediss:"]),
  /**
   * The TCP client: the project's own RESP2 client or node-redis. Unset: native for
   * redis:// (with coalesced lookups it measured 19 % less CPU per cached read and more
   * req/s, see bench/RESULTS.md), node-redis for rediss:// (TLS through the native client
   * is untested). See `redisClientFor`.
   */
  REDIS_CLIENT: z.enum(["native", "node-redis"]).optional(),
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

/** A timeout per operation: a hit must stay fast, so a slow cache counts as down. */
export const REDIS_TIMEOUT_MS = 250;
export const UPSTASH_TIMEOUT_MS = 1_000;

/** The read-through reader over a cache, with the TTL and on/off switch of the settings. */
export function readerFor(cache: Cache, settings: CacheSettings, logger: Logger): CachedReader {
  return new CachedReader({
    cache,
    ttlSeconds: settings.CACHE_TTL_SECONDS,
    enabled: !settings.CACHE_DISABLED,
    logger,
  });
}

/**
 * The Redis TCP client for `REDIS_URL`: `REDIS_CLIENT` when set, else the native client
 * for redis:// and node-redis for rediss://.
 */
export function redisClientFor(
  settings: Pick<CacheSettings, "REDIS_URL" | "REDIS_CLIENT">,
): "native" | "node-redis" {
  if (settings.REDIS_CLIENT) return settings.REDIS_CLIENT;
  return settings.REDIS_URL?.startsWith("rediss:") ? "node-redis" : "native";
}
