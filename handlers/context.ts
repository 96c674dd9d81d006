/**
 * What the handlers are built from (the app factory's dependencies) and the small
 * helpers every route shares.
 */
import type { Context } from "hono";
import type { Logger } from "../lib/log.ts";
import type { MetricsStore } from "../lib/store/metrics_store.ts";
import type { Registry } from "../lib/telemetry.ts";
import type { Authenticator, AuthVariables } from "./auth.ts";

/** A read-through cache of computed answers, scoped by tenant and data version. */
export interface ResponseCache {
  read<T>(tenant: string, key: string, compute: () => Promise<T>): Promise<T>;
}

/** A dependency /readyz checks (database, cache, ...). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface AppDeps {
  store: MetricsStore;
  cache: ResponseCache;
  authenticator: Authenticator;
  clock: () => Date;
  logger: Logger;
  telemetry: Registry;
  readiness: ReadinessCheck[];
  defaultTimeZone: string;
  corsOrigins: string[];
  maxBodyBytes: number;
}

export type AppEnv = { Variables: AuthVariables & { requestId: string } };

interface CachedAnswer {
  status: number;
  body: string;
}

/**
 * Answers from the cache or computes, stores and answers. The serialized body is
 * cached, so a hit costs no JSON work at all.
 */
export async function cachedJson(
  c: Context<AppEnv>,
  deps: AppDeps,
  tenant: string,
  key: string,
  compute: () => Promise<{ status: number; body: unknown }>,
): Promise<Response> {
  const answer = await deps.cache.read<CachedAnswer>(tenant, key, async () => {
    const { status, body } = await compute();
    return { status, body: JSON.stringify(body) };
  });
  return c.body(answer.body, answer.status as 200, { "Content-Type": "application/json" });
}
