/**
 * An app wired for tests: a migrated PGlite store, a configurable cache, API keys for
 * two tenants and a JWT secret.
 */
import { type AppExtension, createApp } from "../../handlers/app_factory.ts";
import { createAuthenticator } from "../../handlers/auth.ts";
import type { AppDeps, ResponseCache } from "../../handlers/context.ts";
import { silentLogger } from "../../lib/log.ts";
import { Registry } from "../../lib/telemetry.ts";
import { SqlMetricsStore } from "../../lib/store/sql_store.ts";
import type { MetricRowInput } from "../../lib/schema.ts";
import { pgliteDatabase, type TestDatabase } from "./databases.ts";

export const KEY_A = "key-tenant-a-0001";
export const KEY_B = "key-tenant-b-0002";
export const JWT_SECRET = "a-test-secret-that-is-long-enough-0123456789";

/** No caching at all: every read computes. */
export const passThroughCache: ResponseCache = {
  readJson: async (_tenant, _key, compute) => JSON.stringify(await compute()),
};

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  db: TestDatabase;
  store: SqlMetricsStore;
  dispose(): Promise<void>;
}

export async function testApp(
  options: {
    cache?: ResponseCache;
    db?: TestDatabase;
    extensions?: AppExtension[];
    overrides?: Partial<AppDeps>;
  } = {},
): Promise<TestApp> {
  const db = options.db ?? await pgliteDatabase();
  const store = new SqlMetricsStore(db.driver);
  const deps: AppDeps = {
    store,
    cache: options.cache ?? passThroughCache,
    authenticator: createAuthenticator({
      apiKeys: [{ tenant: "tenant-a", key: KEY_A }, { tenant: "tenant-b", key: KEY_B }],
      jwtSecret: JWT_SECRET,
    }),
    clock: () => new Date("2024-04-24T10:00:00Z"),
    logger: silentLogger,
    telemetry: new Registry(),
    readiness: [{ name: "database", check: () => store.ping() }],
    defaultTimeZone: "UTC",
    corsOrigins: [],
    maxBodyBytes: 1024 * 1024,
    ...options.overrides,
  };
  const app = createApp(deps, options.extensions ?? []);
  return { app, deps, db, store, dispose: () => db.dispose() };
}

export function auth(key: string): Record<string, string> {
  return { Authorization: `Bearer ${key}` };
}

export function metricRow(overrides: Partial<MetricRowInput> = {}): MetricRowInput {
  return {
    tenant_id: "tenant-a",
    platform: "google",
    account_id: "111",
    campaign_id: "cmp-42",
    campaign_name: "Spring Sale",
    ts: "2024-04-05T00:00:00Z",
    impressions: 1000,
    clicks: 50,
    conversions: "5",
    cost: "25.00",
    revenue: "100.00",
    currency: "USD",
    source: "test",
    ...overrides,
  };
}
