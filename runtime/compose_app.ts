/**
 * The HTTP app from already-open parts: the one place where auth, readiness, the
 * cache, the push API and extensions are put together, shared by the container
 * (runtime/services.ts) and the edge handler (runtime/edge.ts). No Deno APIs here.
 */
import type { Hono } from "hono";
import type { AppConfig } from "../lib/config.ts";
import type { Logger } from "../lib/log.ts";
import type { Registry } from "../lib/telemetry.ts";
import { type CachedReader, registerCacheMetrics } from "../lib/cache/cache.ts";
import type { IngestJournal } from "../lib/store/ingest_journal.ts";
import type { MetricsStore } from "../lib/store/metrics_store.ts";
import type { FxStore } from "../lib/store/fx_store.ts";
import { fxRatesHttp } from "../handlers/fx_rates.ts";
import { type AppExtension, createApp } from "../handlers/app_factory.ts";
import { withFastPath } from "../handlers/fast_path.ts";
import { type Authenticator, createAuthenticator } from "../handlers/auth.ts";
import type { AppDeps, AppEnv, ReadinessCheck, ResponseCache } from "../handlers/context.ts";
import { ingestHttp } from "../handlers/ingest.ts";
import { dashboardHttp } from "../handlers/dashboard.ts";
import { LiveVersions } from "../handlers/live.ts";
import { createSessions } from "../handlers/session.ts";
import { Processor, PUSH_RETRY } from "../ingest/processor.ts";

export interface AppParts {
  config: AppConfig;
  store: MetricsStore;
  journal: IngestJournal;
  /** Exchange rates and per-day sums (currency conversion, POST /fx-rates). */
  fx?: FxStore;
  /** The shared cache; without one every read computes (never stale either way). */
  reader?: CachedReader;
  logger: Logger;
  telemetry: Registry;
  clock: () => Date;
  /** Defaults to the keys and JWT settings of `config`. */
  authenticator?: Authenticator;
  /** Sources this process runs, for GET /sources. */
  configuredSources?: () => string[];
  /** More routes (the bot's /prompt and /slack/command). */
  extensions?: (deps: AppDeps) => AppExtension[];
}

export interface ComposedApp {
  app: Hono<AppEnv>;
  /**
   * What a server should answer requests with: the fast path of cached insights reads
   * (handlers/fast_path.ts) in front of `app.fetch`, unless HTTP_FAST_PATH_DISABLED.
   */
  fetch: (request: Request) => Response | Promise<Response>;
  deps: AppDeps;
  /** Makes a tenant's cached answers unreachable after a committed write. */
  invalidate: (tenantId: string) => Promise<void>;
}

const computeEveryTime: ResponseCache = {
  readJson: async (_tenant, _key, compute) => JSON.stringify(await compute()),
};

export function authenticatorFor(config: AppConfig): Authenticator {
  return createAuthenticator({
    apiKeys: config.API_KEY,
    jwtSecret: config.JWT_SECRET,
    jwksUrl: config.JWT_JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
}

/**
 * What signs dashboard sessions: the configured credentials, so every replica with the
 * same configuration accepts the same cookies. None configured: a random key per process.
 */
export function sessionSecretFor(config: AppConfig): string | undefined {
  const material = [
    ...config.API_KEY.map((apiKey) => `${apiKey.tenant}=${apiKey.key}`).sort(),
    config.JWT_SECRET ?? "",
  ].join("\n");
  return material.trim() ? material : undefined;
}

export function composeApp(parts: AppParts): ComposedApp {
  const { config, store, journal, reader, logger, telemetry, clock } = parts;
  // Open dashboards learn of writes through the data version (handlers/live.ts).
  const versions = new LiveVersions({
    read: reader ? (tenant) => reader.cache.dataVersion(tenant) : undefined,
  });
  const invalidate = async (tenantId: string) => {
    await reader?.bumpDataVersion(tenantId);
    versions.notify(tenantId);
  };
  const readiness: ReadinessCheck[] = [{ name: "database", check: () => store.ping() }];
  if (reader) {
    registerCacheMetrics(telemetry, reader);
    readiness.push({
      name: "cache",
      optional: true,
      check: async () => {
        const health = await reader.probe();
        if (!health.healthy) throw new Error(health.lastError ?? "cache unavailable");
      },
    });
  }
  const deps: AppDeps = {
    store,
    cache: reader ?? computeEveryTime,
    authenticator: parts.authenticator ?? authenticatorFor(config),
    clock,
    logger,
    telemetry,
    readiness,
    metricsToken: config.METRICS_TOKEN,
    defaultTimeZone: config.DEFAULT_TIME_ZONE,
    corsOrigins: config.CORS_ORIGINS,
    maxBodyBytes: config.MAX_BODY_BYTES,
    fx: parts.fx,
    reportingCurrency: config.REPORTING_CURRENCY,
    sessions: createSessions({ secret: sessionSecretFor(config) }),
  };
  const push = new Processor({
    store,
    journal,
    invalidate,
    logger,
    telemetry,
    clock,
    retry: PUSH_RETRY,
  });
  const app = createApp(deps, [
    ingestHttp({
      sink: push,
      sourceStatus: (tenant) => journal.sourceStatus(tenant),
      configuredSources: parts.configuredSources ?? (() => []),
      clock,
    }),
    ...(parts.fx ? [fxRatesHttp({ fx: parts.fx, invalidate })] : []),
    dashboardHttp({
      versions,
      recentRejects: async (tenant, limit) =>
        (await journal.recentRejects(tenant, limit)).map((reject) => ({
          ...reject,
          received_at: reject.received_at === null
            ? null
            : new Date(reject.received_at).toISOString(),
        })),
    }),
    ...(parts.extensions?.(deps) ?? []),
  ]);
  const fetch = withFastPath(deps, (request) => app.fetch(request), {
    enabled: !config.HTTP_FAST_PATH_DISABLED,
  });
  return { app, fetch, deps, invalidate };
}
