/**
 * What the handlers are built from (the app factory's dependencies) and the small
 * helpers every route shares.
 */
import type { Context } from "hono";
import type { Logger } from "../lib/log.ts";
import type { MetricsStore } from "../lib/store/metrics_store.ts";
import type { FxStore } from "../lib/store/fx_store.ts";
import type { Counter, Histogram, Registry } from "../lib/telemetry.ts";
import type { Authenticator, AuthVariables } from "./auth.ts";
import type { Sessions } from "./session.ts";

/** A read-through cache of computed answers (JSON text), scoped by tenant and data version. */
export interface ResponseCache {
  readJson(tenant: string, key: string, compute: () => Promise<unknown>): Promise<string>;
}

/** A dependency /readyz checks (database, cache, ...). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /**
   * The instance still serves every request without it (the cache: reads fall through to
   * the database). Its outage is reported as "degraded" but keeps the instance in rotation.
   */
  optional?: boolean;
}

export interface AppDeps {
  store: MetricsStore;
  cache: ResponseCache;
  authenticator: Authenticator;
  clock: () => Date;
  logger: Logger;
  telemetry: Registry;
  readiness: ReadinessCheck[];
  /** The Prometheus scraper's bearer token for GET /metrics; unset = JWT `ops:read` only. */
  metricsToken?: string;
  defaultTimeZone: string;
  corsOrigins: string[];
  maxBodyBytes: number;
  /** Exchange rates and per-day sums; without it money is never converted. */
  fx?: FxStore;
  /** The currency answers report in when a request names none (REPORTING_CURRENCY). */
  reportingCurrency?: string;
  /** Browser sessions of the dashboard (cookie sign-in); absent = bearer tokens only. */
  sessions?: Sessions;
}

export type AppEnv = { Variables: AuthVariables & { requestId: string } };

/**
 * Answers 200 with the cached JSON, or computes, stores and answers it. A hit costs no
 * JSON work at all. Errors (404s included) are thrown by `compute` and never cached.
 */
export async function cachedJson(
  c: Context<AppEnv>,
  deps: AppDeps,
  tenant: string,
  key: string,
  compute: () => Promise<unknown>,
): Promise<Response> {
  const body = await deps.cache.readJson(tenant, key, compute);
  return c.body(body, 200, { "Content-Type": "application/json" });
}

/** The request metrics every routed request (and the fast path) records. */
export function httpMetrics(telemetry: Registry): { requests: Counter; latency: Histogram } {
  return {
    requests: telemetry.counter("http_requests_total", "HTTP requests by route, method and status"),
    latency: telemetry.histogram("http_request_duration_seconds", "HTTP request latency by route"),
  };
}
