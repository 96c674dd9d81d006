/**
 * The edge entry point: a standard `fetch` handler for Deno Deploy and other edge runtimes
 * (`deno serve runtime/edge.ts` runs it locally). It serves the same app as the container
 * (createApp: /healthz, /readyz, auth, insights, campaigns, GET /metrics, POST /ingest/rows push),
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
 * isolates run no cron; scheduled syncs stay in the `serve` container). POST /ingest/rows does
 * work: a push is a plain request.
 *
 * Nothing in this file uses Deno-only APIs: the environment comes in as a plain record,
 * read from `globalThis.Deno?.env` or `process.env` (or the bindings a runtime passes to
 * `fetch`) only by the default export below. Everything is built lazily, once per isolate,
 * on the first request.
 */
import type { Hono } from "hono";
import { ConfigError, type Env } from "../lib/config.ts";
import { createLogger, type Logger } from "../lib/log.ts";
import { Registry } from "../lib/telemetry.ts";
import { readerFor, UPSTASH_TIMEOUT_MS } from "../lib/cache/settings.ts";
import { createUpstashClient, upstashCache } from "../lib/cache/upstash.ts";
import { postgresDriver } from "../lib/store/driver.ts";
import { SqlMetricsStore } from "../lib/store/sql_store.ts";
import { IngestJournal } from "../lib/store/ingest_journal.ts";
import { SqlFxStore } from "../lib/store/fx_store.ts";
import { composeApp } from "./compose_app.ts";
import { postgresClient } from "./postgres.ts";
import { loadEdgeSettings } from "./settings.ts";
import type { AppExtension } from "../handlers/app_factory.ts";
import type { AppDeps, AppEnv } from "../handlers/context.ts";

/** Connections per isolate unless DATABASE_POOL_SIZE says otherwise: isolates are many. */
const EDGE_POOL_SIZE = 3;

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
  /** The fast path of cached reads in front of `app.fetch` (runtime/compose_app.ts). */
  fetch: (request: Request) => Response | Promise<Response>;
  close(): Promise<void>;
}

/** Everything the app needs, from the environment: no sockets opened until a query runs. */
function build(env: Env, options: EdgeOptions): Built {
  const { app: config, cache: cacheSettings, given } = loadEdgeSettings(env);
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL });
  // loadEdgeSettings has checked the edge's own requirements; this narrows the type.
  if (!config.DATABASE_URL) throw new ConfigError({ missing: ["DATABASE_URL"] });

  const poolSize = given.has("DATABASE_POOL_SIZE") ? config.DATABASE_POOL_SIZE : EDGE_POOL_SIZE;
  const driver = postgresDriver(postgresClient(config.DATABASE_URL, poolSize, {
    // Isolates sleep between requests: do not hold idle server connections for long.
    idleTimeoutSeconds: 20,
    applicationName: "campaign-analytics-edge",
  }));
  const store = new SqlMetricsStore(driver);
  const journal = new IngestJournal(driver);

  // Only a shared cache: a per-isolate memory cache could answer from before a write
  // made in another isolate, so without Upstash every read computes.
  const { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token } = cacheSettings;
  const timeoutMs = cacheSettings.CACHE_TIMEOUT_MS ?? UPSTASH_TIMEOUT_MS;
  const reader = url && token
    ? readerFor(
      upstashCache(createUpstashClient(url, token, timeoutMs), {
        keyPrefix: cacheSettings.CACHE_KEY_PREFIX,
        timeoutMs,
      }),
      cacheSettings,
      logger,
    )
    : undefined;

  const { app, fetch } = composeApp({
    config,
    store,
    journal,
    fx: new SqlFxStore(driver),
    reader,
    logger,
    telemetry: new Registry(),
    clock: options.clock ?? (() => new Date()),
    // No connector runs at the edge; /sources still lists what the containers recorded.
    configuredSources: () => [],
    extensions: options.extensions,
  });
  logger.info("edge handler ready", { cache: reader ? "upstash" : "none", pool_size: poolSize });
  return {
    app,
    fetch,
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
      const serve = instance()?.fetch;
      if (!serve) return misconfigured();
      return await serve(request);
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
