/**
 * The edge entry point: a standard `fetch` handler for Deno Deploy and other edge runtimes
 * (`deno serve handlers/edge.ts` runs it locally). It serves the same app as the container
 * (createApp: /healthz, /readyz, auth, insights, campaigns, /metrics, POST /metrics push),
 * built from environment variables:
 *
 * - `DATABASE_URL` (required): PostgreSQL through postgres.js. There is no embedded
 *   database at the edge. Pool size: `DATABASE_POOL_SIZE` when set, else 3 per isolate.
 * - `UPSTASH_REDIS_REST_URL` + `UPSTASH_REDIS_REST_TOKEN`: the shared cache over REST
 *   (@upstash/redis), with `CACHE_TTL_SECONDS`, `CACHE_TIMEOUT_MS` (1000),
 *   `CACHE_KEY_PREFIX` and `CACHE_DISABLED` as in the container. Without them every read
 *   queries the database: a per-isolate memory cache would serve stale answers after a
 *   write lands in another isolate. `REDIS_URL` (TCP) is refused here.
 * - `API_KEY` and/or `JWT_*`: required. The container makes up and prints a key when none
 *   is set; an edge deployment has many isolates and nobody reads their start-up logs, so it
 *   answers 500 ("not configured") instead of ever running open.
 * - `LOG_LEVEL`, `CORS_ORIGINS`, `MAX_BODY_BYTES`, `DEFAULT_TIME_ZONE` as in the container.
 *
 * What does not run here: migrations (run `deno task migrate`, or the container's
 * `migrate` command, from CI or a release job before deploying) and ingestion (edge
 * isolates run no cron; scheduled syncs stay in the `serve` container). POST /metrics does
 * work: a push is a plain request.
 *
 * Nothing in this file uses Deno-only APIs: the environment comes in as a plain record,
 * read from `globalThis.Deno?.env` or `process.env` (or the bindings a runtime passes to
 * `fetch`) only by the default export below. Everything is built lazily, once per isolate,
 * on the first request.
 */
import postgres from "postgres";
import { Redis as UpstashRedis } from "@upstash/redis";
import { z } from "zod";
import type { Hono } from "hono";
import { ConfigError, type Env, loadAppConfig, parseEnv } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { Registry } from "../lib/telemetry.ts";
import { CachedReader, cacheMetricsText } from "../lib/cache/cache.ts";
import { upstashCache } from "../lib/cache/upstash.ts";
import { postgresDriver, type SqlDriver } from "../lib/store/driver.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
import { IngestJournal } from "../lib/store/ingest_journal.ts";
import { Processor } from "../ingest/processor.ts";
import { type AppExtension, createApp } from "./app.ts";
import { createAuthenticator } from "./auth.ts";
import type { AppDeps, AppEnv, ReadinessCheck, ResponseCache } from "./context.ts";
import { ingestHttp } from "./ingest.ts";

/** Connections per isolate unless DATABASE_POOL_SIZE says otherwise: isolates are many. */
const EDGE_POOL_SIZE = 3;

/** As the container's push endpoint: a short retry, the client holds a request open. */
const PUSH_RETRY = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };

const emptyAsUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const flag = z.preprocess(
  emptyAsUndefined,
  z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"]).default("false")
    .transform((value) => ["true", "1", "yes", "on"].includes(value)),
);

/**
 * The cache settings that apply at the edge: the Upstash slice of runtime/cache.ts's
 * CacheEnvSchema (which cannot be imported here: that module loads the TCP Redis client).
 */
export const EdgeCacheEnvSchema = z.object({
  REDIS_URL: z.preprocess(emptyAsUndefined, z.string().optional()),
  UPSTASH_REDIS_REST_URL: z.preprocess(
    emptyAsUndefined,
    z.url({ protocol: /^https?$/ }).optional(),
  ),
  UPSTASH_REDIS_REST_TOKEN: z.preprocess(emptyAsUndefined, z.string().trim().optional()),
  CACHE_TTL_SECONDS: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(7 * 24 * 3600).default(300),
  ),
  CACHE_TIMEOUT_MS: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(60_000).default(1_000),
  ),
  CACHE_KEY_PREFIX: z.preprocess(emptyAsUndefined, z.string().max(100).default("ca:")),
  CACHE_DISABLED: flag,
}).superRefine((env, ctx) => {
  if (env.REDIS_URL) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_URL"],
      message: "Redis over TCP is not used at the edge: set UPSTASH_REDIS_REST_URL and " +
        "UPSTASH_REDIS_REST_TOKEN instead",
    });
  }
  if (Boolean(env.UPSTASH_REDIS_REST_URL) !== Boolean(env.UPSTASH_REDIS_REST_TOKEN)) {
    ctx.addIssue({
      code: "custom",
      path: [env.UPSTASH_REDIS_REST_URL ? "UPSTASH_REDIS_REST_TOKEN" : "UPSTASH_REDIS_REST_URL"],
      message: "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN go together",
    });
  }
});

export interface EdgeOptions {
  /** Defaults to a JSON logger at LOG_LEVEL. */
  logger?: Logger;
  clock?: () => Date;
  /** More routes on the same app (for instance the bot's in-process /prompt). */
  extensions?: (deps: AppDeps) => AppExtension[];
}

export interface EdgeHandler {
  /** A standard fetch handler; the first call builds everything. */
  fetch(request: Request): Promise<Response>;
  /** Releases the database pool (tests; an isolate simply goes away). */
  close(): Promise<void>;
}

interface Built {
  app: Hono<AppEnv>;
  close(): Promise<void>;
}

/** Everything the app needs, from the environment: no sockets opened until a query runs. */
function build(env: Env, options: EdgeOptions): Built {
  const config = loadAppConfig(env);
  const cacheSettings = parseEnv(EdgeCacheEnvSchema, env, "edge cache settings");
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  const clock = options.clock ?? (() => new Date());

  if (!config.DATABASE_URL) {
    // There is no embedded database at the edge.
    throw new ConfigError({ missing: ["DATABASE_URL"], context: "edge handler" });
  }
  if (config.API_KEY.length === 0 && !config.JWT_SECRET && !config.JWT_JWKS_URL) {
    throw new ConfigError({
      problems: ["set API_KEY or JWT_SECRET / JWT_JWKS_URL: the edge handler never runs open"],
      context: "edge handler",
    });
  }

  const poolSize = emptyAsUndefined(env.DATABASE_POOL_SIZE) === undefined
    ? EDGE_POOL_SIZE
    : config.DATABASE_POOL_SIZE;
  const driver: SqlDriver = postgresDriver(postgres(config.DATABASE_URL, {
    max: poolSize,
    // Fail fast while the server is down, so requests answer 503 instead of hanging.
    connect_timeout: 5,
    // Isolates sleep between requests: do not hold idle server connections for long.
    idle_timeout: 20,
    max_lifetime: 30 * 60,
    onnotice: () => {},
    connection: { application_name: "campaign-analytics-edge" },
  }));
  const store = new SqlMetricsStore(driver);
  const journal = new IngestJournal(driver);
  const telemetry = new Registry();

  let cache: ResponseCache;
  let invalidate: (tenant: string) => Promise<void>;
  const readiness: ReadinessCheck[] = [{ name: "database", check: () => store.ping() }];
  let reader: CachedReader | undefined;
  if (cacheSettings.UPSTASH_REDIS_REST_URL && cacheSettings.UPSTASH_REDIS_REST_TOKEN) {
    const timeoutMs = cacheSettings.CACHE_TIMEOUT_MS;
    // Configured as lib/cache/upstash.ts requires: raw strings, no retries, a signal factory.
    const client = new UpstashRedis({
      url: cacheSettings.UPSTASH_REDIS_REST_URL,
      token: cacheSettings.UPSTASH_REDIS_REST_TOKEN,
      automaticDeserialization: false,
      enableTelemetry: false,
      retry: { retries: 0 },
      signal: () => AbortSignal.timeout(timeoutMs),
    });
    const upstashReader = new CachedReader({
      cache: upstashCache(client, { keyPrefix: cacheSettings.CACHE_KEY_PREFIX, timeoutMs }),
      ttlSeconds: cacheSettings.CACHE_TTL_SECONDS,
      enabled: !cacheSettings.CACHE_DISABLED,
      logger,
    });
    reader = upstashReader;
    cache = upstashReader;
    invalidate = (tenant) => upstashReader.bumpDataVersion(tenant);
    telemetry.addCollector(() => cacheMetricsText(upstashReader));
    readiness.push({
      name: "cache",
      check: async () => {
        const health = await upstashReader.probe();
        if (!health.healthy) throw new Error(health.lastError ?? "cache unavailable");
      },
    });
  } else {
    // No shared cache: every read computes, so no isolate can answer from before a write.
    cache = { readJson: async (_tenant, _key, compute) => JSON.stringify(await compute()) };
    invalidate = () => Promise.resolve();
  }

  const deps: AppDeps = {
    store,
    cache,
    authenticator: createAuthenticator({
      apiKeys: config.API_KEY,
      jwtSecret: config.JWT_SECRET,
      jwksUrl: config.JWT_JWKS_URL,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    }),
    clock,
    logger,
    telemetry,
    readiness,
    defaultTimeZone: config.DEFAULT_TIME_ZONE,
    corsOrigins: config.CORS_ORIGINS,
    maxBodyBytes: config.MAX_BODY_BYTES,
  };
  const push = new Processor({ store, journal, invalidate, logger, telemetry, retry: PUSH_RETRY });
  const app = createApp(deps, [
    ingestHttp({
      sink: push,
      sourceStatus: (tenant) => journal.sourceStatus(tenant),
      // No connector runs at the edge; /sources still lists what the containers recorded.
      configuredSources: () => [],
      clock,
    }),
    ...(options.extensions?.(deps) ?? []),
  ]);
  logger.info("edge handler ready", {
    cache: reader ? "upstash" : "none",
    pool_size: poolSize,
  });
  return {
    app,
    async close() {
      await reader?.close();
      await driver.close();
    },
  };
}

function misconfigured(): Response {
  // The reason is in the log (it names variables, never values); clients learn nothing more.
  return Response.json({ error: "server not configured" }, { status: 500 });
}

/**
 * A fetch handler over `env`, built on the first request and reused by every later one in
 * this isolate. A configuration error is logged once and answered with 500 on every request.
 */
export function createEdgeHandler(env: Env, options: EdgeOptions = {}): EdgeHandler {
  let built: Built | undefined;
  let failure: Error | undefined;
  const instance = (): Built | undefined => {
    if (built || failure) return built;
    try {
      built = build(env, options);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      const logger = options.logger ?? createLogger();
      logger.error("edge handler not configured", { error: failure.message });
    }
    return built;
  };
  return {
    async fetch(request: Request): Promise<Response> {
      const app = instance()?.app;
      if (!app) return misconfigured();
      return await app.fetch(request);
    },
    async close() {
      await built?.close();
      built = undefined;
    },
  };
}

/** The process environment, wherever this runs: Deno, or a runtime with `process.env`. */
function processEnv(): Env {
  const runtime = globalThis as {
    Deno?: { env: { toObject(): Record<string, string> } };
    process?: { env?: Record<string, string | undefined> };
  };
  if (runtime.Deno?.env) return runtime.Deno.env.toObject();
  return { ...(runtime.process?.env ?? {}) };
}

/** Runtimes that pass configuration to `fetch` (Cloudflare Workers' `env`) instead. */
function bindingsEnv(bindings: unknown): Env | undefined {
  if (!bindings || typeof bindings !== "object") return undefined;
  const entries = Object.entries(bindings).filter(([, value]) => typeof value === "string");
  return entries.length ? Object.fromEntries(entries) : undefined;
}

let defaultHandler: EdgeHandler | undefined;

export default {
  /**
   * `deno serve` and Deno Deploy call this with (request, info); Cloudflare Workers with
   * (request, env, ctx). Deno's `info` carries no strings, so it never passes for bindings.
   */
  fetch(request: Request, bindings?: unknown): Promise<Response> {
    defaultHandler ??= createEdgeHandler(
      (globalThis as { Deno?: unknown }).Deno
        ? processEnv()
        : bindingsEnv(bindings) ?? processEnv(),
    );
    return defaultHandler.fetch(request);
  },
};
